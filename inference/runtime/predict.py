"""Batched prediction of slices with an ONNX session, back on the original pixel grid, and
its conversion into labelme shapes for a model read.

Polygon policy: per label, the largest connected component of the thresholded probability
(components under `min_component_px` pixels are ignored), or with `components: series` the one
chosen along the slices predicted together (components.py); holes are filled, because labelme
polygons have none and the cord and the dural sac have none. Its outline is the sub-pixel
iso-line of the probability at the threshold, simplified with Douglas-Peucker
(`cv2.approxPolyDP`) at `polygon_tolerance_px`.

Uncertainty (for active learning), in [0, 1]: the mean of one score per structure and one for
the keypoints. A structure scores the mean binary entropy (bits) of its probability over the
network-grid pixels where it is at least 0.05 (1.0 when there are none: expected but absent);
keypoints score 1 - their mean heatmap peak.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from skimage import measure

from inference.runtime.components import Components, find_components, series_choice
from inference.runtime.contract import EXTENT_KEYPOINTS, ModelContract
from inference.runtime.corner_chain import corner_names, decode_chain, moving_levels, peak_cells
from inference.runtime.counting import (
    Counted,
    agrees,
    apply_count,
    corner_windows,
    count_on_slice,
    unverified,
)
from inference.runtime.level_count import check_keypoints
from inference.runtime.pooling import pool_probabilities
from inference.runtime.preprocess import (
    InputError,
    Preprocessed,
    Transform,
    keypoint_view,
    preprocess,
)
from inference.runtime.sessions import view_session
from inference.runtime.view_graph import view_name

SUPPORT_PROBABILITY = 0.05


@dataclass(frozen=True)
class Keypoint:
    x: float
    y: float
    confidence: float


@dataclass
class SlicePrediction:
    image_shape: tuple[int, int]
    probabilities: dict[str, np.ndarray]  # float32 (rows, cols), on the original grid
    masks: dict[str, np.ndarray]  # bool (rows, cols): the largest component, holes filled
    polygons: dict[str, np.ndarray | None]  # (N, 2) labelme coordinates, or None
    shape_confidence: dict[str, float]  # mean probability inside the mask
    keypoints: dict[str, Keypoint] = field(default_factory=dict)
    uncertainty: float = 0.0
    uncertainty_parts: dict[str, float] = field(default_factory=dict)
    # Corners withheld as suggestions, with the reason: by the level check
    # (level_count.check_keypoints, at confidence 0), by the count, or (models with counting
    # channels) because their level was not counted from C2; and levels renamed by counting
    # (new level -> the network's).
    keypoints_withheld: dict[str, str] = field(default_factory=dict)
    levels_renamed: dict[str, str] = field(default_factory=dict)
    # The span (mm) of the wider view the keypoints were read from (preprocess.keypoint_view),
    # None when they come from the slice's own region of interest.
    keypoint_span_mm: float | None = None
    # The vertebral levels counted from C2 (counting.py), with models that have counting
    # channels.
    counted: Counted | None = None
    # Per label, the components its mask is chosen from (components.series_choice); emptied
    # once predict_slices has chosen.
    components: dict[str, Components] = field(default_factory=dict, repr=False)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Elementwise logistic in float32. cv2.exp is several times faster than np.tanh or np.exp
    on the network's maps and within one float32 ulp of them; it takes 2-D arrays only."""
    values = np.ascontiguousarray(x, dtype=np.float32)
    flat = values.reshape(-1, values.shape[-1]) if values.ndim != 2 else values
    denominator = np.asarray(cv2.exp(-flat), dtype=np.float32)
    denominator += np.float32(1.0)
    return np.reciprocal(denominator, out=denominator).reshape(values.shape)


def _label_probabilities(contract: ModelContract, seg: np.ndarray) -> dict[str, np.ndarray]:
    """(channels, h, w) raw output -> per label probability on the network grid."""
    spec = contract.segmentation
    if spec.activation == "sigmoid":
        probs = _sigmoid(seg)
    elif spec.activation == "softmax":
        shifted = np.exp(seg - seg.max(axis=0, keepdims=True))
        probs = (shifted / shifted.sum(axis=0, keepdims=True))[1:]
    else:
        probs = np.clip(seg, 0.0, 1.0)
    out = {label: probs[i] for i, label in enumerate(spec.labels)}
    for outer, inner in spec.contains.items():
        merged = out[outer].copy()
        for label in inner:
            # Exclusive classes add up; independent ones take the larger value.
            merged = (
                merged + out[label]
                if spec.activation == "softmax"
                else np.maximum(merged, out[label])
            )
        out[outer] = np.clip(merged, 0.0, 1.0)
    return out


def _outline(
    prob: np.ndarray, component: np.ndarray, threshold: float, tolerance: float
) -> np.ndarray | None:
    """Sub-pixel outline of one component at the threshold, in labelme coordinates."""
    x, y, w, h = cv2.boundingRect(component.view(np.uint8))
    r0, r1 = max(y - 2, 0), min(y + h + 2, prob.shape[0])
    c0, c1 = max(x - 2, 0), min(x + w + 2, prob.shape[1])
    inside = component[r0:r1, c0:c1]
    region = cv2.dilate(inside.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    # Probability outside the (dilated) component is zeroed so that neighbours stay apart,
    # inside the filled component raised to the threshold so that holes do not make rings.
    # Written into a zero border of one pixel, so that every outline closes.
    padded = np.zeros((r1 - r0 + 2, c1 - c0 + 2), dtype=prob.dtype)
    local = padded[1:-1, 1:-1]
    np.copyto(local, prob[r0:r1, c0:c1], where=region)
    np.maximum(local, threshold + 1e-3, out=local, where=inside)
    contours: list[np.ndarray] = measure.find_contours(padded, threshold)  # type: ignore[no-untyped-call]
    if not contours:
        return None
    best = contours[0] if len(contours) == 1 else max(contours, key=_enclosed_area)
    # find_contours gives (row, col) with pixel centres at integers; labelme puts them at +0.5.
    points = best[:, ::-1] + (c0 - 0.5, r0 - 0.5)
    if len(points) > 1 and _same_point(points[0], points[-1]):
        points = points[:-1]
    if tolerance > 0 and len(points) > 3:
        simplified = cv2.approxPolyDP(points.astype(np.float32)[:, None, :], tolerance, True)[
            :, 0, :
        ]
        if len(simplified) >= 3:
            points = simplified.astype(np.float64)
    return np.asarray(points, dtype=np.float64) if len(points) >= 3 else None


def _enclosed_area(contour: np.ndarray) -> float:
    """Shoelace area of a (closed or not) contour of (row, col) points."""
    rows, cols = contour[:, 0], contour[:, 1]
    twice = rows[1:] @ cols[:-1] + rows[0] * cols[-1] - cols[1:] @ rows[:-1] - cols[0] * rows[-1]
    return float(abs(twice) / 2)


def _same_point(a: np.ndarray, b: np.ndarray) -> bool:
    """np.allclose for two 2-D points, without its overhead."""
    return bool(abs(a[0] - b[0]) <= 1e-8 + 1e-5 * abs(b[0])) and bool(
        abs(a[1] - b[1]) <= 1e-8 + 1e-5 * abs(b[1])
    )


def decode_heatmap(heatmap: np.ndarray) -> tuple[float, float, float]:
    """Peak of one heatmap channel with sub-pixel refinement (a parabola through the log of
    the peak and its neighbours along each axis: exact for a Gaussian). Returns (u, v, peak)
    in heatmap-grid labelme coordinates (pixel centres at i + 0.5); the peak value is the
    parabola's too, so a keypoint between pixels is not penalised."""
    u, v, peak = decode_heatmaps(np.asarray(heatmap)[None])[0]
    return float(u), float(v), float(peak)


def decode_heatmaps(heatmaps: np.ndarray) -> np.ndarray:
    """`decode_heatmap` of every channel of a (channels, h, w) stack at once: (channels, 3)
    float64 rows of (u, v, peak). Only the peak and its four neighbours are read, so the
    cost does not grow with the heatmap's size beyond the argmax."""
    k, h, w = heatmaps.shape
    index = np.argmax(heatmaps.reshape(k, h * w), axis=1)
    r, c = np.divmod(index, w)
    return refine_peaks(heatmaps, np.arange(k), r, c)


def refine_peaks(
    heatmaps: np.ndarray, channels: np.ndarray, r: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """The cells (channels[i], r[i], c[i]) of a (channels, h, w) stack refined to sub-pixel
    (a parabola through the log of the cell and its neighbours along each axis): (n, 3)
    float64 rows of (u, v, value), as `decode_heatmaps` decodes a channel's peak."""
    _, h, w = heatmaps.shape
    # The cell, left, right, above, below: neighbours clamped into the grid (those on the
    # border get no refinement, masked in _vertex).
    up, down = np.maximum(r - 1, 0), np.minimum(r + 1, h - 1)
    left, right = np.maximum(c - 1, 0), np.minimum(c + 1, w - 1)
    samples = heatmaps[channels, np.stack((r, r, r, up, down)), np.stack((c, left, right, c, c))]
    peak = samples[0].astype(np.float64)
    logs = np.log(np.maximum(samples, 1e-6).astype(np.float64))
    dx, gx = _vertex(logs[1], logs[0], logs[2], (c > 0) & (c < w - 1))
    dy, gy = _vertex(logs[3], logs[0], logs[4], (r > 0) & (r < h - 1))
    # A peak at (or under) 1e-6 is no peak: its pixel centre, unrefined, as it is.
    flat = peak <= 1e-6
    dx, dy = np.where(flat, 0.0, dx), np.where(flat, 0.0, dy)
    value = np.where(flat, peak, peak * np.exp(gx + gy))
    return np.column_stack((c + 0.5 + dx, r + 0.5 + dy, value))


def _vertex(
    before: np.ndarray, centre: np.ndarray, after: np.ndarray, inside: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Offset (within +-0.5) and height gain of the parabola's vertex through three samples;
    (0, 0) where the parabola does not open downwards or `inside` is False."""
    a = 0.5 * (before + after) - centre
    b = 0.5 * (after - before)
    curved = inside & (a < 0)
    t = np.clip(-b / np.where(curved, 2 * a, -1.0), -0.5, 0.5)
    t = np.where(curved, t, 0.0)
    return t, np.where(curved, b * t + a * t * t, 0.0)


def _mean_binary_entropy(p: np.ndarray) -> float:
    """Mean binary entropy (bits) of probabilities p. Float32 with cv2.log (2-D only, hence
    the column): about three times faster than float64 np.log2 and within 1e-6 bits of it;
    the mean is summed in float64."""
    column = np.asarray(p, dtype=np.float32).reshape(-1, 1)
    q = np.clip(column, np.float32(1e-7), np.float32(1 - 1e-7))
    r = np.float32(1.0) - q
    nats = q * cv2.log(q) + r * cv2.log(r)
    return float(-nats.mean(dtype=np.float64) / np.log(2.0))


def sagittal_band(
    keypoints: Mapping[str, Keypoint],
    shape: tuple[int, int],
    spacing: tuple[float, float],
    min_confidence: float,
) -> np.ndarray | None:
    """Pixels between the C2/C3 and C7/T1 disc centres, cut across the spine axis (C3 -> C7).
    The C2/C3 centre is the C3 upper endplate raised by half the C3/C4 disc height, the C7/T1
    centre the C7 lower endplate lowered by half the C6/C7 disc height (the C2 and T1 corners
    are not predicted). None when a needed corner is missing or below `min_confidence`, or
    when the corners are implausible (out of order, the spine not running top to bottom, disc
    heights over 15 mm, a C2/C3 to C7/T1 span outside 40-200 mm): then nothing is cut."""
    if any(
        n not in keypoints or keypoints[n].confidence < min_confidence for n in EXTENT_KEYPOINTS
    ):
        return None
    scale = np.array([spacing[1], spacing[0]])

    def mid(a: str, b: str) -> np.ndarray:
        pa, pb = keypoints[a], keypoints[b]
        return np.array([(pa.x + pb.x) / 2 * scale[0], (pa.y + pb.y) / 2 * scale[1]])

    sup3, inf3, sup4 = mid("C3_AS", "C3_PS"), mid("C3_AI", "C3_PI"), mid("C4_AS", "C4_PS")
    inf6, sup7, inf7 = mid("C6_AI", "C6_PI"), mid("C7_AS", "C7_PS"), mid("C7_AI", "C7_PI")
    axis = inf7 - sup3
    norm = float(np.linalg.norm(axis))
    if norm == 0:
        return None
    axis /= norm
    along = [float(p @ axis) for p in (sup3, inf3, sup4, inf6, sup7, inf7)]
    disc_top, disc_bottom = along[2] - along[1], along[4] - along[3]
    ordered = all(b - a > -1.0 for a, b in itertools.pairwise(along))
    if axis[1] < 0.5 or not ordered or not (0 <= disc_top <= 15 and 0 <= disc_bottom <= 15):
        return None
    top = along[0] - disc_top / 2
    bottom = along[5] + disc_bottom / 2
    if not 40.0 <= bottom - top <= 200.0:
        return None
    rows, cols = shape
    s_col = (np.arange(cols) + 0.5) * scale[0] * axis[0]
    s_row = (np.arange(rows) + 0.5) * scale[1] * axis[1]
    s = s_row[:, None] + s_col[None, :]
    return np.asarray((s >= top) & (s <= bottom))


def _postprocess(
    contract: ModelContract,
    transform: Transform,
    spacing: tuple[float, float],
    seg: np.ndarray,
    heat: np.ndarray | None,
    keypoint_transform: Transform | None = None,
    *,
    segment: bool = True,
) -> SlicePrediction:
    """`keypoint_transform`: where `heat` came from when it is not `transform` (the keypoint
    view of a small region of interest, `preprocess.keypoint_view`). `segment`: False leaves
    the masks to `_segment`, once the series' probabilities are pooled."""
    post = contract.postprocessing
    net_probs = _label_probabilities(contract, seg)
    pred = SlicePrediction(
        image_shape=transform.image_shape,
        probabilities={},
        masks={},
        polygons={},
        shape_confidence={},
    )
    parts: dict[str, float] = {}
    if heat is not None and contract.heatmap is not None:
        parts["keypoints"] = _keypoints(
            contract, keypoint_transform or transform, heat, pred, spacing
        )
        if keypoint_transform is not None:
            x0, y0, x1, y1 = keypoint_transform.box
            pred.keypoint_span_mm = max((x1 - x0) * spacing[1], (y1 - y0) * spacing[0])
        # Levels by order and plausibility, not by position alone (issue 14 §5): before the
        # band rule, so that the band never rests on corners that make no spine.
        _count_levels(contract, keypoint_transform or transform, heat, spacing, pred)
        check = check_keypoints(pred.keypoints, spacing, min_confidence=post.extent_min_confidence)
        pred.keypoints = check.keypoints
        pred.keypoints_withheld = {**pred.keypoints_withheld, **check.withheld}
        # A level renamed twice (by the count, then by order) was the network's first name.
        earlier = pred.levels_renamed
        pred.levels_renamed = {
            **earlier,
            **{new: earlier.get(old, old) for new, old in check.renamed.items()},
        }
        pred.levels_renamed = {new: old for new, old in pred.levels_renamed.items() if new != old}
        # A level guessed without C2 in view is as sure as a right one (counting.unverified).
        if post.corner_levels == "counted" and pred.counted is not None:
            guesses = unverified(
                pred.keypoints, pred.counted, spacing, min_confidence=post.extent_min_confidence
            )
            pred.keypoints_withheld = {**guesses, **pred.keypoints_withheld}
    band = None
    if post.extent == "c2c3_to_c7t1":
        band = sagittal_band(
            pred.keypoints, transform.image_shape, spacing, post.extent_min_confidence
        )
    for label, net_prob in net_probs.items():
        prob = transform.network_to_image(net_prob)
        if band is not None:
            prob = np.where(band, prob, np.float32(0.0))
        pred.probabilities[label] = prob
        if segment:
            _segment(pred, contract, label)
        support = net_prob >= SUPPORT_PROBABILITY
        parts[label] = _mean_binary_entropy(net_prob[support]) if support.any() else 1.0
    pred.uncertainty_parts = parts
    pred.uncertainty = float(np.mean(list(parts.values()))) if parts else 0.0
    return pred


def _segment(pred: SlicePrediction, contract: ModelContract, label: str) -> None:
    """The label's components of its probability and the largest kept as its mask."""
    found = find_components(
        pred.probabilities[label],
        contract.segmentation.threshold,
        contract.postprocessing.min_component_px,
    )
    if found is not None:
        pred.components[label] = found
    _keep(pred, contract, label, found.largest if found is not None else None)


def _keep(pred: SlicePrediction, contract: ModelContract, label: str, index: int | None) -> None:
    """Component `index` of the label (None: none) as its mask, outline and confidence."""
    found = pred.components.get(label)
    if found is None or index is None:
        pred.masks[label] = np.zeros(pred.image_shape, dtype=bool)
        pred.polygons[label] = None
        pred.shape_confidence[label] = 0.0
        return
    prob = pred.probabilities[label]
    threshold = contract.segmentation.threshold
    component = found.filled(index)
    pred.masks[label] = component
    pred.polygons[label] = _outline(
        prob, component, threshold, contract.postprocessing.polygon_tolerance_px
    )
    pred.shape_confidence[label] = float(prob[component].mean())


def _series_components(
    contract: ModelContract, results: list[SlicePrediction], spacings: Sequence[Sequence[float]]
) -> None:
    """Each label's component chosen along the series (components.series_choice) where a
    slice offers more than one."""
    for label in contract.segmentation.labels:
        found = [r.components.get(label) for r in results]
        if all(f is None or len(f.kept) < 2 for f in found):
            continue
        for pred, comps, index in zip(results, found, series_choice(found, spacings), strict=True):
            if comps is not None and index != comps.largest:
                _keep(pred, contract, label, index)


def _count_levels(
    contract: ModelContract,
    transform: Transform,
    heat: np.ndarray,
    spacing: tuple[float, float],
    pred: SlicePrediction,
) -> None:
    """With counting channels (counting.py): the levels counted from C2; where the count and
    the network agree on enough levels, each counted level's corners read again around its
    own body, then held against the count (renamed or withheld)."""
    spec = contract.heatmap
    if spec is None or not spec.counting:
        return
    least = contract.postprocessing.extent_min_confidence
    pred.counted = count_on_slice(
        spec, transform, heat, spacing, pred.keypoints, min_confidence=least
    )
    if not agrees(pred.keypoints, pred.counted, spacing, least):
        return
    windows = corner_windows(spec, transform, spacing, pred.counted, heat.shape[1:])
    guided = _guided_corners(contract, transform, heat, pred, windows) if windows else []
    pred.keypoints, pred.keypoints_withheld, pred.levels_renamed = apply_count(
        pred.keypoints, pred.counted, spacing, min_confidence=least
    )
    # Read again where the network did not put them: good enough for the band rule and the
    # measurements' preview, not to be drawn as the network's own.
    for name in guided:
        pred.keypoints_withheld.setdefault(
            name, "read again on its counted body (the network's peak lay on another)"
        )


def _guided_corners(
    contract: ModelContract,
    transform: Transform,
    heat: np.ndarray,
    pred: SlicePrediction,
    windows: Mapping[str, np.ndarray],
) -> list[str]:
    """The corners in `windows` whose peak lies outside their window (on another body than the
    one counted as theirs), decoded again from their heatmap's highest value inside it; their
    names. A corner already inside keeps its decoding: near the window's edge the masked map
    would bend its sub-pixel refinement."""
    spec = contract.heatmap
    assert spec is not None
    channel = {name: i for i, name in enumerate(spec.keypoints)}
    rows, cols = heat.shape[1:]
    names = []
    for name, window in windows.items():
        if name not in channel or name not in pred.keypoints:
            continue
        point = pred.keypoints[name]
        u, v = transform.to_network(np.array([[point.x, point.y]]))[0] / spec.stride
        r, c = int(np.floor(v)), int(np.floor(u))
        if not (0 <= r < rows and 0 <= c < cols and window[r, c]):
            names.append(name)
    if not names:
        return names
    maps = np.stack([heat[channel[n]] for n in names])
    if spec.activation == "sigmoid":
        maps = _sigmoid(maps)
    inside = np.stack([windows[n] for n in names])
    decoded = decode_heatmaps(np.where(inside, maps, np.float32(-1.0)))
    points = transform.to_image(decoded[:, :2] * spec.stride)
    confidences = np.clip(decoded[:, 2], 0.0, 1.0)
    for name, (x, y), confidence in zip(names, points.tolist(), confidences.tolist(), strict=True):
        pred.keypoints[name] = Keypoint(x=x, y=y, confidence=confidence)
    return names


def _keypoints(
    contract: ModelContract,
    transform: Transform,
    heat: np.ndarray,
    pred: SlicePrediction,
    spacing: tuple[float, float],
) -> float:
    """Decodes the keypoints into `pred`; returns their uncertainty (1 - mean peak)."""
    assert contract.heatmap is not None
    stride = contract.heatmap.stride
    if contract.heatmap.activation == "sigmoid":
        heat = _sigmoid(heat)
    decoded = decode_heatmaps(heat[: len(contract.heatmap.keypoints)])
    points = transform.to_image(decoded[:, :2] * stride)
    confidences = np.clip(decoded[:, 2], 0.0, 1.0)
    for name, (x, y), confidence in zip(
        contract.heatmap.keypoints, points.tolist(), confidences.tolist(), strict=True
    ):
        pred.keypoints[name] = Keypoint(x=x, y=y, confidence=confidence)
    if contract.postprocessing.corners == "chain":
        _chain_corners(contract, transform, heat, spacing, pred)
    return 1.0 - float(np.mean(confidences))


def _chain_corners(
    contract: ModelContract,
    transform: Transform,
    heat: np.ndarray,
    spacing: tuple[float, float],
    pred: SlicePrediction,
) -> None:
    """The corners decoded together (corner_chain.py): a corner whose highest peak makes no
    spine with the others takes another of its heatmap's highest peaks, with that peak's
    value as its confidence. Nothing to do where the highest peaks already make one."""
    assert contract.heatmap is not None
    names = list(contract.heatmap.keypoints)
    scale = np.array([spacing[1], spacing[0]])
    points = {n: (p.x * scale[0], p.y * scale[1]) for n, p in pred.keypoints.items()}
    moving = {n for level in moving_levels(points) for n in corner_names(level)}
    if not moving:
        return
    # Only the corners that may move need their peaks; the others keep their highest.
    index = np.array([i for i, n in enumerate(names) if n in moving])
    channels, rows, cols = peak_cells(heat[index])
    channels = index[channels]
    decoded = refine_peaks(heat, channels, rows, cols)
    xy = transform.to_image(decoded[:, :2] * contract.heatmap.stride)
    values = np.clip(decoded[:, 2], 0.0, 1.0)
    found: dict[str, list[Keypoint]] = {}
    for channel, (x, y), value in zip(channels.tolist(), xy.tolist(), values.tolist(), strict=True):
        found.setdefault(names[channel], []).append(Keypoint(x=x, y=y, confidence=value))
    candidates = {n: [(*points[n], p.confidence)] for n, p in pred.keypoints.items()}
    candidates |= {
        n: [(k.x * scale[0], k.y * scale[1], k.confidence) for k in peaks]
        for n, peaks in found.items()
    }
    for name, choice in decode_chain(candidates).items():
        if choice:
            pred.keypoints[name] = found[name][choice]


def _batch_limit(session: Any, requested: int) -> int:
    dims = session.get_inputs()[0].shape
    fixed = dims[0] if dims and isinstance(dims[0], int) and dims[0] > 0 else None
    return fixed if fixed is not None else max(1, requested)


def predict_slices(
    session: Any,
    contract: ModelContract,
    images: Sequence[np.ndarray],
    spacings: Sequence[Sequence[float]],
    *,
    batch_size: int = 8,
    positions_mm: Sequence[float] | None = None,
) -> list[SlicePrediction]:
    """Predicts each slice (any size, uint8/uint16/int16/float32) with its (row, col) mm
    spacing. `positions_mm`: the slices are one series, at these positions along its normal
    (the contract's `slice_pooling_mm` pools their probabilities); None: unrelated slices.
    Raises InputError for a bad image, naming its index."""
    if len(images) != len(spacings):
        raise InputError(f"{len(images)} images but {len(spacings)} spacings")
    series = _pooled_series(contract, images, positions_mm)
    prepared = []
    for index, (image, spacing) in enumerate(zip(images, spacings, strict=True)):
        try:
            prepared.append(preprocess(image, spacing, contract))
        except InputError as exc:
            raise InputError(f"slice {index}: {exc}") from exc
    # Small regions of interest get a second, wider view for the keypoints, run with the slices
    # through a branch of the network that makes only the heatmaps (view_graph).
    views: list[Preprocessed | None] = [
        keypoint_view(image, spacing, contract, item) if contract.heatmap is not None else None
        for image, spacing, item in zip(images, spacings, prepared, strict=True)
    ]
    limit = _batch_limit(session, batch_size)
    names = [contract.segmentation.name]
    if contract.heatmap is not None:
        names.append(contract.heatmap.name)
    results: list[SlicePrediction] = []
    for start in range(0, len(prepared), limit):  # a chunk's outputs at a time in memory
        chunk = range(start, min(start + limit, len(prepared)))
        wide = [i for i in chunk if views[i] is not None]
        tensors = [prepared[i].tensor for i in chunk]
        wide_tensors = [view.tensor for i in wide if (view := views[i]) is not None]
        branched = view_session(session, names[-1]) if wide_tensors else None
        if branched is not None:
            outputs, wide_heats = _run_with_views(branched, contract, names, tensors, wide_tensors)
        elif contract.postprocessing.average_flip_lr:  # no heatmap, so no wider views
            outputs, wide_heats = _run_flip_averaged(session, contract, names, tensors, limit), []
        else:  # the views through the whole network, in the slices' batches
            outputs = _run(session, contract, names, tensors + wide_tensors, limit)
            wide_heats = [out[1] for out in outputs[len(tensors) :]]
        heats = dict(zip(wide, wide_heats, strict=True))
        for offset, i in enumerate(chunk):
            seg = outputs[offset][0]
            heat = outputs[offset][1] if len(outputs[offset]) > 1 else None
            view = views[i]
            spacing = (float(spacings[i][0]), float(spacings[i][1]))
            results.append(
                _postprocess(
                    contract,
                    prepared[i].transform,
                    spacing,
                    seg,
                    heats.get(i, heat),
                    view.transform if view is not None else None,
                    segment=series is None,
                )
            )
    if series is not None:
        _pool_and_segment(contract, results, series)
    if contract.postprocessing.components == "series":
        _series_components(contract, results, spacings)
    for result in results:  # only the choice needed them; a long series would hold them all
        result.components.clear()
    return results


def _pooled_series(
    contract: ModelContract,
    images: Sequence[np.ndarray],
    positions_mm: Sequence[float] | None,
) -> list[float] | None:
    """The positions to pool the slices' probabilities along, or None: pooling is off, the
    slices are no series, or not one grid with distinct positions."""
    if positions_mm is not None and len(positions_mm) != len(images):
        raise InputError(f"{len(images)} images but {len(positions_mm)} positions")
    if contract.postprocessing.slice_pooling_mm <= 0 or positions_mm is None:
        return None
    if len({image.shape for image in images}) != 1 or len(set(positions_mm)) != len(images):
        return None
    return [float(p) for p in positions_mm]


def _pool_and_segment(
    contract: ModelContract, results: Sequence[SlicePrediction], positions_mm: Sequence[float]
) -> None:
    """Each label's probabilities pooled along the series, then each slice's mask."""
    sigma = contract.postprocessing.slice_pooling_mm
    for label in contract.segmentation.labels:
        maps = pool_probabilities([r.probabilities[label] for r in results], positions_mm, sigma)
        for result, prob in zip(results, maps, strict=True):
            result.probabilities[label] = prob
            _segment(result, contract, label)


def _run_with_views(
    session: Any,
    contract: ModelContract,
    names: Sequence[str],
    tensors: Sequence[np.ndarray],
    views: Sequence[np.ndarray],
) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """One run of a branched session (sessions.view_session): each slice's outputs `names`
    and each view's heatmaps."""
    view_input, view_output = view_name(contract.input.name), view_name(names[-1])
    feeds = {contract.input.name: np.stack(tensors), view_input: np.stack(views)}
    *outputs, heats = session.run([*names, view_output], feeds)
    per_slice = [[output[i] for output in outputs] for i in range(len(tensors))]
    return per_slice, [heats[k] for k in range(len(views))]


def _run(
    session: Any,
    contract: ModelContract,
    names: Sequence[str],
    tensors: Sequence[np.ndarray],
    limit: int,
) -> list[list[np.ndarray]]:
    """The outputs `names` of each network input, run in batches of `limit` (a fixed-batch
    session's last batch padded)."""
    out: list[list[np.ndarray]] = []
    for start in range(0, len(tensors), limit):
        batch = np.stack(tensors[start : start + limit])
        real = len(batch)
        if real < limit and session.get_inputs()[0].shape[0] == limit:
            batch = np.concatenate([batch, np.zeros((limit - real, *batch.shape[1:]), np.float32)])
        outputs = session.run(list(names), {contract.input.name: batch})
        out.extend([output[i] for output in outputs] for i in range(real))
    return out


def _run_flip_averaged(
    session: Any,
    contract: ModelContract,
    names: Sequence[str],
    tensors: Sequence[np.ndarray],
    limit: int,
) -> list[list[np.ndarray]]:
    """`_run` of each input and of its left-right mirror image in the same batches, the
    segmentation output the mean of the two (the mirror's flipped back)."""
    mirrored = [np.ascontiguousarray(t[..., ::-1]) for t in tensors]
    both = _run(session, contract, names, [*tensors, *mirrored], limit)
    plain, flipped = both[: len(tensors)], both[len(tensors) :]
    return [
        [(a[0] + b[0][..., ::-1]) * np.float32(0.5), *a[1:]]
        for a, b in zip(plain, flipped, strict=True)
    ]


def _rounded(points: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 3), round(float(y), 3)] for x, y in points]


def prediction_to_shapes(
    prediction: SlicePrediction, *, keypoint_min_confidence: float = 0.0
) -> list[dict[str, Any]]:
    """labelme shapes of one slice: a polygon per predicted structure, a point per keypoint
    (those under `keypoint_min_confidence` left out, and those outside the image: a corner
    the field of view cut off, placed in the padding, can be neither saved nor corrected),
    each with its `confidence`."""
    shapes: list[dict[str, Any]] = []
    for label, polygon in prediction.polygons.items():
        if polygon is None:
            continue
        shapes.append(
            {
                "label": label,
                "points": _rounded(polygon),
                "group_id": None,
                "description": "",
                "shape_type": "polygon",
                "flags": {},
                "mask": None,
                "confidence": round(prediction.shape_confidence[label], 4),
            }
        )
    rows, cols = prediction.image_shape
    for name, point in prediction.keypoints.items():
        if point.confidence < keypoint_min_confidence:
            continue
        if not (0.0 <= point.x <= cols and 0.0 <= point.y <= rows):
            continue
        level = name.split("_")[0]
        renamed = prediction.levels_renamed.get(level)
        shapes.append(
            {
                "label": name,
                "points": _rounded(np.array([[point.x, point.y]])),
                "group_id": None,
                # The user sees that the name comes from the count, not from the network.
                "description": (
                    f"the network's {renamed}, renamed {level} by counting vertebrae"
                    if renamed
                    else ""
                ),
                "shape_type": "point",
                "flags": {},
                "mask": None,
                "confidence": round(point.confidence, 4),
            }
        )
    return shapes
