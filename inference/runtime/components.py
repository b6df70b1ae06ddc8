"""Connected components of a slice's thresholded probability, and which one to keep on each
slice of a series.

A slice on its own keeps its largest component. Across a series the cord and the dural sac
run without jumps: on the real T1 axial volume one slice's largest "cord" component was the
bright marrow of a vertebral body 25 mm in front of the cord, which the slices above and below
place correctly. `series_choice` picks one component per slice along the whole series at
once (Viterbi): each candidate costs -log(its probability mass / the slice's largest mass) and
each step from one slice's choice to the next slice's costs the distance between their
centroids over JUMP_MM. A series whose slices have one component each is left as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

# A centroid moving this far between neighbouring slices costs as much as keeping a
# component of 1/e of the largest one's mass.
JUMP_MM = 5.0


@dataclass(frozen=True)
class Components:
    """The 8-connected components of one mask, found inside its bounding box. Index k (0-based)
    is label k + 1 of `labels`; only components of at least `min_pixels` are `kept`."""

    labels: np.ndarray  # int32 (h, w): the box
    origin: tuple[int, int]  # (x, y) of the box on the whole grid
    shape: tuple[int, int]  # the whole grid
    areas: np.ndarray  # (n,) pixels
    mass: np.ndarray  # (n,) summed probability
    centroids: np.ndarray  # (n, 2) (row, col) on the whole grid
    kept: tuple[int, ...]  # indices with at least min_pixels, largest first

    @property
    def largest(self) -> int | None:
        return self.kept[0] if self.kept else None

    def filled(self, index: int) -> np.ndarray:
        """Component `index` with its holes filled (its outer contour), on the whole grid."""
        component = (self.labels == index + 1).astype(np.uint8)
        contours, _ = cv2.findContours(component, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        filled = np.zeros(self.shape, dtype=np.uint8)
        cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED, offset=self.origin)
        return filled.view(bool)


def find_components(prob: np.ndarray, threshold: float, min_pixels: int) -> Components | None:
    """The components of `prob >= threshold`; None when there is no pixel. The largest comes
    first among equals in row-major order, as a scan of the whole grid would number them."""
    binary = (prob >= threshold).view(np.uint8)
    x, y, w, h = cv2.boundingRect(binary)
    if w == 0 or h == 0:
        return None
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        binary[y : y + h, x : x + w], connectivity=8, ltype=cv2.CV_32S
    )
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    box = prob[y : y + h, x : x + w].astype(np.float64)
    mass = np.bincount(labels.ravel(), weights=box.ravel(), minlength=count)[1:]
    # Stable sort: among equal areas the lower label (earlier in row-major order) stays first.
    order = np.argsort(-areas, kind="stable")
    kept = tuple(int(i) for i in order if areas[i] >= max(min_pixels, 1))
    return Components(
        labels=labels,
        origin=(x, y),
        shape=(prob.shape[0], prob.shape[1]),
        areas=areas,
        mass=mass,
        centroids=centroids[1:, ::-1] + (y, x),
        kept=kept,
    )


def series_choice(
    slices: Sequence[Components | None], spacings: Sequence[Sequence[float]]
) -> list[int | None]:
    """One kept component per slice (None where a slice has none), the path through the
    series of least cost (module docstring). Slices without a component are skipped: the path
    joins the slices on either side of them."""
    present = [i for i, c in enumerate(slices) if c is not None and c.kept]
    choice: list[int | None] = [None] * len(slices)
    if not present:
        return choice
    options: list[tuple[int, ...]] = []
    points: list[np.ndarray] = []
    unary: list[np.ndarray] = []
    for i in present:
        comps = slices[i]
        assert comps is not None
        kept = comps.kept
        mass = np.maximum(comps.mass[list(kept)], 1e-9)
        options.append(kept)
        unary.append(-np.log(mass / mass.max()))
        row_mm, col_mm = float(spacings[i][0]), float(spacings[i][1])
        points.append(comps.centroids[list(kept)] * (row_mm, col_mm))
    cost = unary[0]
    back: list[np.ndarray] = []
    for k in range(1, len(present)):
        step = np.linalg.norm(points[k - 1][:, None, :] - points[k][None, :, :], axis=2)
        total = cost[:, None] + step / JUMP_MM
        back.append(np.argmin(total, axis=0))
        cost = total.min(axis=0) + unary[k]
    best = int(np.argmin(cost))
    for k in range(len(present) - 1, -1, -1):
        choice[present[k]] = options[k][best]
        if k:
            best = int(back[k - 1][best])
    return choice
