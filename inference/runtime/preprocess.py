"""Seed 003 preprocessing (foreground box, axial centre crop, resize) and its exact inverse.

Coordinates follow labelme: x = column, y = row, origin at the top-left corner of the top-left
pixel (a pixel centre is at i + 0.5), on the image grid and on the network grid alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from inference.runtime.contract import ModelContract, Normalisation

ACCEPTED_DTYPES: tuple[str, ...] = ("uint8", "uint16", "int16", "float32")
MAX_IMAGE_SIDE = 8192


class InputError(ValueError):
    """An image or spacing that the models cannot take, with the reason."""


def validate_image(image: object, *, name: str = "image") -> np.ndarray:
    """The image as a 2-D array, or InputError naming what is wrong with it."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{name}: expected a numpy array, got {type(image).__name__}")
    array: np.ndarray = image
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise InputError(f"{name}: expected a 2-D slice (rows, columns), got shape {array.shape}")
    if array.size == 0:
        raise InputError(f"{name}: the slice is empty (shape {array.shape})")
    if str(array.dtype) not in ACCEPTED_DTYPES:
        raise InputError(
            f"{name}: unsupported pixel type {array.dtype}; accepted: {', '.join(ACCEPTED_DTYPES)}"
        )
    if max(array.shape) > MAX_IMAGE_SIDE or min(array.shape) < 2:
        raise InputError(
            f"{name}: unexpected size {array.shape[0]}x{array.shape[1]} "
            f"(each side must be between 2 and {MAX_IMAGE_SIDE} pixels)"
        )
    if array.dtype == np.float32 and not np.isfinite(array).all():
        raise InputError(f"{name}: contains NaN or infinite values")
    return array


def validate_spacing(spacing: object, *, name: str = "spacing") -> tuple[float, float]:
    """(row mm, column mm), both positive and finite."""
    try:
        row, col = (float(v) for v in spacing)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected (row mm, column mm), got {spacing!r}") from exc
    if not (math.isfinite(row) and math.isfinite(col) and row > 0 and col > 0):
        raise InputError(f"{name}: pixel spacing must be positive and finite, got {spacing!r}")
    return row, col


@dataclass(frozen=True)
class Transform:
    """Maps the integer box [x0, x1) x [y0, y1) of the image (it may stick out of the image,
    the outside being padded) onto the whole network grid of `network_shape` (rows, cols)."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels
    image_shape: tuple[int, int]
    network_shape: tuple[int, int]

    @property
    def scale(self) -> tuple[float, float]:
        """Network pixels per image pixel along x and y."""
        x0, y0, x1, y1 = self.box
        return self.network_shape[1] / (x1 - x0), self.network_shape[0] / (y1 - y0)

    def to_network(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) image coordinates -> network coordinates."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        sx, sy = self.scale
        return np.column_stack(((pts[:, 0] - self.box[0]) * sx, (pts[:, 1] - self.box[1]) * sy))

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) network coordinates -> image coordinates."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        sx, sy = self.scale
        return np.column_stack((pts[:, 0] / sx + self.box[0], pts[:, 1] / sy + self.box[1]))

    def image_to_network(
        self, image: np.ndarray, *, fill: float = 0.0, interpolation: str = "auto"
    ) -> np.ndarray:
        """Resamples an image-grid array (rows, cols) onto the network grid."""
        x0, y0, x1, y1 = self.box
        crop = _crop_padded(image.astype(np.float32, copy=False), self.box, fill)
        h, w = self.network_shape
        shrink = (x1 - x0) > w or (y1 - y0) > h
        flag = cv2.INTER_AREA if shrink and interpolation == "auto" else cv2.INTER_LINEAR
        if interpolation == "nearest":
            flag = cv2.INTER_NEAREST
        return np.asarray(cv2.resize(crop, (w, h), interpolation=flag), dtype=np.float32)

    def network_to_image(self, values: np.ndarray) -> np.ndarray:
        """Resamples a network-grid map (h/s, w/s) at any stride s back onto the image grid;
        pixels outside the box get 0. This is the inverse of `image_to_network`."""
        x0, y0, x1, y1 = self.box
        bw, bh = x1 - x0, y1 - y0
        grow = bw >= values.shape[1] and bh >= values.shape[0]
        flag = cv2.INTER_LINEAR if grow else cv2.INTER_AREA
        resized = cv2.resize(values.astype(np.float32, copy=False), (bw, bh), interpolation=flag)
        rows, cols = self.image_shape
        out = np.zeros((rows, cols), dtype=np.float32)
        ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, cols), min(y1, rows)
        if ix1 > ix0 and iy1 > iy0:
            out[iy0:iy1, ix0:ix1] = resized[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0]
        return out


def _crop_padded(image: np.ndarray, box: tuple[int, int, int, int], fill: float) -> np.ndarray:
    x0, y0, x1, y1 = box
    rows, cols = image.shape
    out = np.full((y1 - y0, x1 - x0), fill, dtype=image.dtype)
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, cols), min(y1, rows)
    if ix1 > ix0 and iy1 > iy0:
        out[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = image[iy0:iy1, ix0:ix1]
    return out


def percentile_window(image: np.ndarray, low: float, high: float) -> tuple[float, float]:
    lo, hi = _percentiles(image, low, high)
    if not hi > lo:
        lo, hi = float(image.min()), float(image.max())
    if not hi > lo:
        hi = lo + 1.0
    return float(lo), float(hi)


def _percentiles(image: np.ndarray, low: float, high: float) -> tuple[float, float]:
    """np.percentile(image, [low, high]) (its default linear method, the same arithmetic)
    from the two order statistics around each: counted in a histogram for 8- and 16-bit
    integer pixels (exact, and several times faster than sorting a slice), else from one
    np.partition (np.percentile's own bookkeeping costs more than the partition)."""
    values = np.asarray(image).ravel()
    n = values.size
    q = np.array([low, high], dtype=np.float64) / 100
    virtual = (n - 1) * q  # np.percentile's virtual index, 'linear' method
    below = np.clip(np.floor(virtual), 0, n - 1).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    gamma = virtual - np.floor(virtual)
    if values.dtype.kind in "ui" and values.dtype.itemsize <= 2:
        a, b = _order_statistics(values, below), _order_statistics(values, above)
    else:
        ordered = np.partition(values, np.unique(np.concatenate((below, above))))
        a, b = ordered[below], ordered[above]
    diff = b - a  # in the pixels' type, as numpy's _lerp; the rest in float64
    lerp = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return float(lerp[0]), float(lerp[1])


def _order_statistics(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values at 0-based `ranks` of the sorted 8- or 16-bit integer `values`, counted in
    a histogram of the values' range. Float64: exact for these integers, and the difference
    of two of them cannot wrap around as it would in an unsigned type."""
    offset = int(values.min())
    shifted = values if offset == 0 else values.astype(np.int32) - offset
    cumulative = np.cumsum(np.bincount(shifted))
    return np.searchsorted(cumulative, ranks, side="right").astype(np.float64) + offset


def render_8bit(
    image: np.ndarray, norm: Normalisation, *, window: tuple[float, float] | None = None
) -> np.ndarray:
    """The 8-bit rendering that seed 003's threshold of 50 applies to (percentile window;
    `window` when the caller has it already)."""
    lo, hi = window if window is not None else percentile_window(image, norm.low, norm.high)
    scaled = (image.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.asarray(np.clip(scaled, 0, 255), dtype=np.uint8)


def foreground_box(rendered: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    """Bounding box (x0, y0, x1, y1) of the tissue: pixels above the threshold, after a 3x3
    opening that drops isolated noise pixels; the whole image when nothing is above it."""
    mask = np.asarray(rendered > threshold, dtype=np.uint8)
    opened = np.asarray(
        cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), dtype=np.uint8
    )
    # cv2.boundingRect of a uint8 image bounds its non-zero pixels (zero size: none).
    for candidate in (opened, mask):
        x, y, w, h = cv2.boundingRect(candidate)
        if w > 0 and h > 0:
            return int(x), int(y), int(x + w), int(y + h)
    return 0, 0, rendered.shape[1], rendered.shape[0]


def roi_box(
    image: np.ndarray,
    spacing: tuple[float, float],
    contract: ModelContract,
    *,
    window: tuple[float, float] | None = None,
) -> tuple[int, int, int, int]:
    """The region of interest the contract asks for, as an integer box (may exceed the image).
    `window`: the image's percentile window, when the caller has it already."""
    pre = contract.preprocessing
    x0, y0, x1, y1 = foreground_box(
        render_8bit(image, contract.normalisation, window=window), pre.foreground_threshold
    )
    row_mm, col_mm = spacing
    h, w = contract.input.height, contract.input.width
    if pre.roi == "centre_crop":
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        if pre.crop_px is not None:
            bw = bh = pre.crop_px
        else:
            side = float(pre.crop_mm or 0.0)
            # Physical size: the crop covers crop_mm in both directions, whatever the spacing.
            bw = max(2, round(side / col_mm))
            bh = max(2, round(side / row_mm))
            # A non-square network keeps the same mm per pixel along both axes.
            if w != h:
                bw = max(2, round(bh * row_mm / col_mm * w / h))
        return _centred(cx, cy, bw, bh)
    if pre.keep_aspect:
        bw, bh = x1 - x0, y1 - y0
        target = w / h  # width / height in mm that keeps pixels square on the network
        if bw * col_mm / (bh * row_mm) < target:
            bw = max(bw, round(target * bh * row_mm / col_mm))
        else:
            bh = max(bh, round(bw * col_mm / (target * row_mm)))
        return _centred((x0 + x1) / 2.0, (y0 + y1) / 2.0, bw, bh)
    return x0, y0, x1, y1


def _centred(cx: float, cy: float, bw: int, bh: int) -> tuple[int, int, int, int]:
    x0 = math.floor(cx - bw / 2.0 + 0.5)
    y0 = math.floor(cy - bh / 2.0 + 0.5)
    return x0, y0, x0 + bw, y0 + bh


def normalise(
    image: np.ndarray,
    norm: Normalisation,
    reference: np.ndarray,
    *,
    window: tuple[float, float] | None = None,
) -> np.ndarray:
    """Intensity normalisation with statistics of `reference` (the whole slice); `window`:
    its percentile window, when the caller has it already."""
    values = image.astype(np.float32, copy=False)
    if norm.kind == "zscore":
        std = float(reference.std()) or 1.0
        out = (values - float(reference.mean())) / std
    else:
        if norm.kind == "percentile":
            lo, hi = window or percentile_window(reference, norm.low, norm.high)
        else:
            lo, hi = float(reference.min()), float(reference.max())
            hi = hi if hi > lo else lo + 1.0
        out = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    if norm.mean != 0.0 or norm.std != 1.0:
        out = (out - norm.mean) / norm.std
    return np.asarray(out, dtype=np.float32)


@dataclass(frozen=True)
class Preprocessed:
    tensor: np.ndarray  # (channels, height, width) float32, the network input
    transform: Transform
    window: tuple[float, float]  # the slice's percentile window (for another view of it)


def preprocess(
    image: np.ndarray,
    spacing: Sequence[float],
    contract: ModelContract,
    *,
    box: tuple[int, int, int, int] | None = None,
    window: tuple[float, float] | None = None,
) -> Preprocessed:
    """One slice -> network input and the transform back. `box` overrides the ROI (training,
    a keypoint view); `window`: the slice's percentile window when already computed."""
    image = validate_image(image)
    row_mm, col_mm = validate_spacing(spacing)
    pixels = image.astype(np.float32)
    # The ROI's 8-bit rendering and the normalisation take the same window: computed once.
    norm = contract.normalisation
    if window is None:
        window = percentile_window(image, norm.low, norm.high)
    roi = box if box is not None else roi_box(pixels, (row_mm, col_mm), contract, window=window)
    transform = Transform(
        box=roi,
        image_shape=(int(image.shape[0]), int(image.shape[1])),
        network_shape=(contract.input.height, contract.input.width),
    )
    # Padding takes the slice's minimum: the background, after normalisation too.
    resized = transform.image_to_network(pixels, fill=float(pixels.min()))
    net = normalise(resized, norm, pixels, window=window if norm.kind == "percentile" else None)
    tensor = np.repeat(net[None], contract.input.channels, axis=0)
    return Preprocessed(
        tensor=np.ascontiguousarray(tensor, dtype=np.float32), transform=transform, window=window
    )


def keypoint_view(
    image: np.ndarray, spacing: Sequence[float], contract: ModelContract, prepared: Preprocessed
) -> Preprocessed | None:
    """The slice again, for the keypoints alone, when its region of interest spans less than
    the contract's `keypoint_min_span_mm`: the same box grown about its centre (aspect kept)
    until its longer side spans that many mm, the outside padded as usual. None when the
    contract asks for no such view or the box is wide enough already.

    A heatmap network trained on cervical fields of view of 120-240 mm sees a 60 mm crop of
    three vertebrae magnified three times and places their corners by the wrong cues; the
    segmentation stays on the crop's own box, where its resolution is best."""
    span = contract.preprocessing.keypoint_min_span_mm
    if span is None or contract.heatmap is None:
        return None
    row_mm, col_mm = validate_spacing(spacing)
    x0, y0, x1, y1 = prepared.transform.box
    bw, bh = x1 - x0, y1 - y0
    current = max(bw * col_mm, bh * row_mm)
    if current >= span:
        return None
    factor = span / current
    box = _centred(
        (x0 + x1) / 2.0, (y0 + y1) / 2.0, max(bw, round(bw * factor)), max(bh, round(bh * factor))
    )
    return preprocess(image, spacing, contract, box=box, window=prepared.window)
