"""On-the-fly training samples: field-of-view crop, ROI jitter, rotation, scale, elastic warp,
low resolution, bias field, gamma/contrast, noise; deterministic for a given numpy Generator.

Every sample goes through the runtime's own `preprocess`, so training sees exactly what the
ONNX model sees at inference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from inference.runtime.contract import ModelContract
from inference.runtime.preprocess import preprocess, roi_box
from inference.training.data import TrainingSlice


@dataclass(frozen=True)
class AugmentConfig:
    fov_crop_p: float = 0.4  # cut the slice to a smaller field of view around the cord
    fov_min_mm: float = 35.0
    box_scale: tuple[float, float] = (0.9, 1.2)
    box_shift: float = 0.08  # fraction of the box size
    rotation_deg: float = 10.0
    scale: tuple[float, float] = (0.9, 1.1)
    elastic_p: float = 0.5
    elastic_alpha: float = 4.0  # network pixels
    flip_lr: bool = False  # axial only: the cord is near left-right symmetric
    lowres_p: float = 0.35
    lowres_factor: tuple[float, float] = (0.2, 0.7)
    bias_p: float = 0.5
    bias_amplitude: float = 0.35
    gamma: tuple[float, float] = (0.7, 1.5)
    contrast: tuple[float, float] = (0.75, 1.3)
    brightness: float = 0.08
    noise_p: float = 0.5
    noise_std: tuple[float, float] = (0.005, 0.06)
    blur_p: float = 0.2
    # A random smooth intensity curve over the normalised image (inversion among them): the
    # tissues keep their edges but change their order, so a network fine-tuned on one real
    # contrast does not learn that contrast's polarity (issue 14 §1; off unless asked).
    remap_p: float = 0.0
    remap_knots: int = 5


NO_AUGMENT = AugmentConfig(
    fov_crop_p=0.0,
    box_scale=(1.0, 1.0),
    box_shift=0.0,
    rotation_deg=0.0,
    scale=(1.0, 1.0),
    elastic_p=0.0,
    lowres_p=0.0,
    bias_p=0.0,
    gamma=(1.0, 1.0),
    contrast=(1.0, 1.0),
    brightness=0.0,
    noise_p=0.0,
    blur_p=0.0,
)


@dataclass(frozen=True)
class Sample:
    image: np.ndarray  # (channels, H, W) float32: the network input
    masks: np.ndarray  # (labels, H, W) float32 soft targets
    mask_weight: np.ndarray  # (labels, H, W) float32, 0 where the label is unknown
    heatmaps: np.ndarray  # (keypoints, H/s, W/s) float32 at the heatmap stride s (or zeros)
    heatmap_weight: float  # 1 when every keypoint is known and inside the view
    # The slice's keypoints on the network grid (pixel centre + 0.5), inside the view or not;
    # None when it has none.
    points: np.ndarray | None = None


def _fov_crop(
    item: TrainingSlice, rng: np.random.Generator, min_mm: float
) -> tuple[np.ndarray, dict[str, np.ndarray | None], np.ndarray | None, np.ndarray | None]:
    """Cuts a random smaller field of view containing the cord (real series often have one)."""
    image = item.image
    rows, cols = image.shape
    row_mm, col_mm = item.spacing
    cord = item.masks.get("cord")
    if cord is not None and cord.any():
        ys, xs = np.nonzero(cord)
        pick = int(rng.integers(len(ys)))
        cy, cx = float(ys[pick]), float(xs[pick])
    else:
        cy, cx = rows / 2.0, cols / 2.0
    height_mm = rng.uniform(min(min_mm, rows * row_mm), rows * row_mm)
    width_mm = height_mm * rng.uniform(0.8, 1.25)
    h = int(np.clip(round(height_mm / row_mm), 8, rows))
    w = int(np.clip(round(width_mm / col_mm), 8, cols))
    y0 = int(np.clip(round(cy - h * rng.uniform(0.3, 0.7)), 0, rows - h))
    x0 = int(np.clip(round(cx - w * rng.uniform(0.3, 0.7)), 0, cols - w))
    window = (slice(y0, y0 + h), slice(x0, x0 + w))
    masks = {k: (None if v is None else v[window]) for k, v in item.masks.items()}
    valid = None if item.valid is None else item.valid[window]
    keypoints = None
    if item.keypoints is not None:
        keypoints = item.keypoints - np.array([x0, y0])
    return image[window], masks, valid, keypoints


def _jitter_box(
    box: tuple[int, int, int, int], rng: np.random.Generator, config: AugmentConfig
) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    factor = rng.uniform(*config.box_scale)
    w, h = (x1 - x0) * factor, (y1 - y0) * factor
    cx = (x0 + x1) / 2 + rng.uniform(-1, 1) * config.box_shift * (x1 - x0)
    cy = (y0 + y1) / 2 + rng.uniform(-1, 1) * config.box_shift * (y1 - y0)
    nx0, ny0 = round(cx - w / 2), round(cy - h / 2)
    return nx0, ny0, nx0 + max(2, round(w)), ny0 + max(2, round(h))


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], grid: int) -> np.ndarray:
    coarse = rng.uniform(-1, 1, size=(grid, grid)).astype(np.float32)
    return np.asarray(cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC))


def _geometry(
    shape: tuple[int, int], rng: np.random.Generator, config: AugmentConfig
) -> tuple[np.ndarray, np.ndarray]:
    """dst -> src sampling maps (continuous labelme coordinates) of a random rotation, scale,
    optional left-right flip and elastic warp about the network grid's centre."""
    h, w = shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    theta = math.radians(rng.uniform(-config.rotation_deg, config.rotation_deg))
    zoom = rng.uniform(*config.scale)
    cx, cy = w / 2.0, h / 2.0
    du, dv = (u - cx) / zoom, (v - cy) / zoom
    cos, sin = math.cos(theta), math.sin(theta)
    su = cx + cos * du - sin * dv
    sv = cy + sin * du + cos * dv
    if config.flip_lr and rng.random() < 0.5:
        su = w - su
    if rng.random() < config.elastic_p:
        grid = int(rng.integers(4, 9))
        su = su + config.elastic_alpha * _smooth_field(rng, shape, grid)
        sv = sv + config.elastic_alpha * _smooth_field(rng, shape, grid)
    return su.astype(np.float32), sv.astype(np.float32)


def _remap(values: np.ndarray, su: np.ndarray, sv: np.ndarray, fill: float) -> np.ndarray:
    return np.asarray(
        cv2.remap(
            values.astype(np.float32),
            su - 0.5,
            sv - 0.5,
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=fill,
        )
    )


def _forward_points(points: np.ndarray, su: np.ndarray, sv: np.ndarray) -> np.ndarray:
    """Where source points land under the dst -> src maps: the nearest grid position whose
    source is the point, refined by a local linear solve (the maps are smooth)."""
    h, w = su.shape
    out = np.empty_like(points)
    for i, (px, py) in enumerate(points):
        d2 = (su - px) ** 2 + (sv - py) ** 2
        r, c = divmod(int(np.argmin(d2)), w)
        r0, c0 = min(max(r, 0), h - 2), min(max(c, 0), w - 2)
        jac = np.array(
            [
                [su[r0, c0 + 1] - su[r0, c0], su[r0 + 1, c0] - su[r0, c0]],
                [sv[r0, c0 + 1] - sv[r0, c0], sv[r0 + 1, c0] - sv[r0, c0]],
            ],
            dtype=np.float64,
        )
        residual = np.array([px - su[r, c], py - sv[r, c]], dtype=np.float64)
        try:
            step = np.linalg.solve(jac, residual)
        except np.linalg.LinAlgError:
            step = np.zeros(2)
        out[i] = (c + 0.5 + step[0], r + 0.5 + step[1])
    return out


def random_curve(x: np.ndarray, rng: np.random.Generator, knots: int) -> np.ndarray:
    """`x` in [0, 1] through a random piecewise-linear curve: half of the time the
    inversion 1 - x, else `knots` random levels (the ends included), so any order of the
    tissues' intensities can come out."""
    if rng.random() < 0.5:
        return np.asarray(1.0 - x, dtype=np.float32)
    levels = rng.uniform(0.0, 1.0, size=knots)
    curve = np.interp(x, np.linspace(0.0, 1.0, knots), levels)
    return np.asarray(curve, dtype=np.float32)


def _intensity(image: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    h, w = image.shape
    x = image
    if config.remap_p > 0 and rng.random() < config.remap_p:
        x = random_curve(x, rng, config.remap_knots)
    if rng.random() < config.lowres_p:
        factor = rng.uniform(*config.lowres_factor)
        small = cv2.resize(
            x, (max(4, round(w * factor)), max(4, round(h * factor))), interpolation=cv2.INTER_AREA
        )
        x = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < config.bias_p:
        x = x * np.exp(config.bias_amplitude * _smooth_field(rng, (h, w), 3))
    if config.gamma != (1.0, 1.0):
        x = np.clip(x, 0.0, None) ** rng.uniform(*config.gamma)
    mean = float(x.mean())
    x = (x - mean) * rng.uniform(*config.contrast) + mean + rng.uniform(-1, 1) * config.brightness
    if rng.random() < config.noise_p:
        sigma = rng.uniform(*config.noise_std)
        n1 = rng.normal(0, sigma, size=x.shape)
        n2 = rng.normal(0, sigma, size=x.shape)
        x = np.sqrt((x + n1) ** 2 + n2**2)  # Rician, as magnitude MR images are
    if rng.random() < config.blur_p:
        x = cv2.GaussianBlur(x.astype(np.float32), (0, 0), rng.uniform(0.5, 1.2))
    return np.asarray(x, dtype=np.float32)


def gaussian_heatmaps(points: np.ndarray, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """(K, H, W) Gaussians of peak 1 at `points` (network coordinates, pixel centre + 0.5)."""
    h, w = shape
    ys = np.arange(h, dtype=np.float32) + 0.5
    xs = np.arange(w, dtype=np.float32) + 0.5
    gx = np.exp(-((xs[None, :] - points[:, :1]) ** 2) / (2 * sigma**2))
    gy = np.exp(-((ys[None, :] - points[:, 1:]) ** 2) / (2 * sigma**2))
    return np.asarray(gy[:, :, None] * gx[:, None, :], dtype=np.float32)


def make_sample(
    item: TrainingSlice,
    contract: ModelContract,
    rng: np.random.Generator,
    *,
    labels: Sequence[str],
    config: AugmentConfig,
    heatmap_sigma: float = 2.0,
    keypoint_count: int = 0,
    heatmap_stride: int = 1,
) -> Sample:
    """One (augmented) training sample of a slice, on the network grid of `contract`."""
    image, masks, valid, keypoints = item.image, dict(item.masks), item.valid, item.keypoints
    if rng.random() < config.fov_crop_p:
        image, masks, valid, keypoints = _fov_crop(item, rng, config.fov_min_mm)
    box = roi_box(image.astype(np.float32), item.spacing, contract)
    box = _jitter_box(box, rng, config)
    prep = preprocess(image, item.spacing, contract, box=box)
    t = prep.transform
    shape = (contract.input.height, contract.input.width)
    su, sv = _geometry(shape, rng, config)
    background = float(prep.tensor[0].min())
    net = _intensity(_remap(prep.tensor[0], su, sv, background), rng, config)
    known_region = (
        np.ones(shape, np.float32)
        if valid is None
        else t.image_to_network(valid.astype(np.float32), fill=1.0)
    )
    known_region = _remap(known_region, su, sv, 1.0)
    target = np.zeros((len(labels), *shape), np.float32)
    weight = np.zeros((len(labels), *shape), np.float32)
    for i, label in enumerate(labels):
        mask = masks.get(label)
        if mask is None:
            continue
        target[i] = _remap(t.image_to_network(mask.astype(np.float32)), su, sv, 0.0)
        weight[i] = known_region
    heat_shape = (shape[0] // heatmap_stride, shape[1] // heatmap_stride)
    heat = np.zeros((keypoint_count, *heat_shape), np.float32)
    heat_weight = 0.0
    points = None if keypoints is None else _forward_points(t.to_network(keypoints), su, sv)
    if points is not None and keypoint_count:
        margin = 2 * heatmap_sigma
        inside = bool((points >= margin).all())
        inside = inside and bool((points[:, 0] <= shape[1] - margin).all())
        inside = inside and bool((points[:, 1] <= shape[0] - margin).all())
        if inside:
            # A heatmap pixel k covers network pixels [k*s, (k+1)*s): coordinates divide by s.
            heat = gaussian_heatmaps(
                points / heatmap_stride, heat_shape, heatmap_sigma / heatmap_stride
            )
            heat_weight = 1.0
    channels = np.repeat(net[None], contract.input.channels, axis=0)
    return Sample(
        image=channels,
        masks=target,
        mask_weight=weight,
        heatmaps=heat,
        heatmap_weight=heat_weight,
        points=points,
    )
