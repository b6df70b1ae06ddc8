"""Hand-built analytic shapes for the measurement tests: straight spines in a frame, ellipses,
and labelme shapes made of them.

s runs along the wall (mm, inferior +) and t across it (mm, posterior +); the frame places
them on an image with a tilt and an anisotropic pixel spacing, so every expected number is
known in closed form.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

VERTEBRAE = ("C3", "C4", "C5", "C6", "C7")
WALL = 13.0  # mm, posterior-wall length of each vertebra
GAP = 5.0  # mm, disc gap between vertebrae


@dataclass(frozen=True)
class Frame:
    """Maps spine coordinates (s, t) in mm to labelme pixel coordinates."""

    origin_mm: tuple[float, float] = (60.0, 40.0)
    tilt_deg: float = 0.0
    spacing: tuple[float, float] = (0.5, 0.5)  # (row_mm, col_mm)

    def to_px(self, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        th = math.radians(self.tilt_deg)
        u = (-math.sin(th), math.cos(th))
        n = (math.cos(th), math.sin(th))
        x = self.origin_mm[0] + s * u[0] + t * n[0]
        y = self.origin_mm[1] + s * u[1] + t * n[1]
        return np.stack([x / self.spacing[1], y / self.spacing[0]], axis=-1)


def wall_positions(walls: tuple[float, ...] = (WALL,) * 5, gap: float = GAP) -> dict[str, float]:
    """Arc length of each PS and PI keypoint from C3_PS."""
    out: dict[str, float] = {}
    s = 0.0
    for i, v in enumerate(VERTEBRAE):
        out[f"{v}_PS"] = s
        s += walls[i]
        out[f"{v}_PI"] = s
        s += gap
    return out


def keypoints(
    frame: Frame, walls: tuple[float, ...] = (WALL,) * 5
) -> dict[str, tuple[float, float]]:
    """All 20 keypoints; posterior corners on t = 0, anterior ones 15 mm in front."""
    out: dict[str, tuple[float, float]] = {}
    for name, s in wall_positions(walls).items():
        for corner, t in ((name, 0.0), (name.replace("_P", "_A"), -15.0)):
            p = frame.to_px(np.array(s), np.array(t))
            out[corner] = (float(p[0]), float(p[1]))
    return out


def band(
    frame: Frame,
    anterior: Callable[[np.ndarray], np.ndarray],
    posterior: Callable[[np.ndarray], np.ndarray],
    samples: np.ndarray,
) -> np.ndarray:
    """Polygon (pixels) between two edges t = anterior(s) and t = posterior(s)."""
    s = np.concatenate([samples, samples[::-1]])
    t = np.concatenate([anterior(samples), posterior(samples)[::-1]])
    return frame.to_px(s, t)


def constant(value: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda s: np.full_like(s, value, dtype=np.float64)


def notch(
    base: float, depth: float, centre: float, half_width: float
) -> Callable[[np.ndarray], np.ndarray]:
    """An edge at t = base pushed posteriorly by a triangle of `depth` at s = centre."""
    return lambda s: base + depth * np.clip(1.0 - np.abs(s - centre) / half_width, 0.0, None)


def samples_with(*points: float, start: float = -10.0, stop: float = 100.0) -> np.ndarray:
    """Polygon sample positions every 2 mm plus the given breakpoints."""
    return np.unique(np.concatenate([np.arange(start, stop + 1e-9, 2.0), np.array(points)]))


def ellipse_px(
    *,
    a: float,
    b: float,
    rotation_deg: float,
    spacing: tuple[float, float],
    n: int = 256,
    centre_mm: tuple[float, float] = (40.0, 35.0),
) -> np.ndarray:
    """Polygon inscribed in an ellipse (semi-axes a, b in mm, rotated in mm space), in pixels.

    Vertices sit at half-step angles, so with n a multiple of 4 the polygon has edges normal
    to both axes: its extents are 2a·cos(pi/n) and 2b·cos(pi/n).
    """
    phi = 2 * np.pi * (np.arange(n) + 0.5) / n
    x, y = a * np.cos(phi), b * np.sin(phi)
    th = math.radians(rotation_deg)
    xm = centre_mm[0] + x * math.cos(th) - y * math.sin(th)
    ym = centre_mm[1] + x * math.sin(th) + y * math.cos(th)
    return np.stack([xm / spacing[1], ym / spacing[0]], axis=1)


def shape(label: str, points: Any, shape_type: str = "polygon", **extra: Any) -> dict[str, Any]:
    return {
        "label": label,
        "points": np.asarray(points, dtype=float).tolist(),
        "group_id": None,
        "description": "",
        "shape_type": shape_type,
        "flags": {},
        "mask": None,
        **extra,
    }


def sagittal_shapes(frame: Frame = Frame(), centre: float = 42.0) -> list[dict[str, Any]]:
    s = samples_with(centre, centre - 4, centre + 4)
    cord = band(frame, notch(3.0, 2.0, centre, 4.0), constant(11.0), s)
    canal = band(frame, notch(1.5, 3.5, centre, 4.0), constant(15.5), s)
    shapes = [shape("cord", cord), shape("canal", canal)]
    shapes += [shape(k, [v], "point") for k, v in keypoints(frame).items()]
    return shapes
