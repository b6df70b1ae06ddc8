"""Structure masks of a read on a series' voxel grid, shared by the NIfTI and DICOM SEG writers.

A polygon covers the pixels whose centre lies inside it, a mask shape its stored pixels
(measurements.core.fusion.shape_to_mask, the rule the measurements and the gold fusion use).
"""

from __future__ import annotations

import numpy as np

from exports.bundle import ReadBundle, SeriesBundle
from measurements.core.fusion import FusionError, shape_to_mask

AREA_TYPES = frozenset({"polygon", "mask", "rectangle"})


def structure_masks(
    *, read: ReadBundle, series: SeriesBundle, labels: list[str]
) -> dict[str, np.ndarray]:
    """Per label, a (slices, rows, columns) boolean volume of the read's area shapes on
    this series (all False where the read drew nothing)."""
    grid = (series.rows, series.columns)
    volumes = {
        label: np.zeros((len(series.images), series.rows, series.columns), dtype=bool)
        for label in labels
    }
    for k, image in enumerate(series.images):
        for shape in read.shapes.get(image.id, []):
            label = shape.get("label")
            if label not in volumes or (shape.get("shape_type") or "polygon") not in AREA_TYPES:
                continue
            try:
                volumes[str(label)][k] |= shape_to_mask(shape, image_shape=grid)
            except FusionError:
                continue  # a degenerate shape covers no pixel
    return volumes


def label_map(masks: dict[str, np.ndarray], labels: list[str]) -> np.ndarray:
    """One uint8 volume: label i+1 for labels[i]. An earlier label wins where two overlap
    (cord over canal), so the label map is painted in reverse order."""
    first = next(iter(masks.values()))
    out = np.zeros(first.shape, dtype=np.uint8)
    for value, label in reversed(list(enumerate(labels, start=1))):
        out[masks[label]] = value
    return out
