"""Binary masks as labelme 5 ``mask`` shapes.

labelme stores a mask as the bounding box of its pixels, ``points = [[x0, y0], [x1, y1]]``
with x1, y1 the last column and row (inclusive, so the crop is ``mask[y0:y1+1, x0:x1+1]``),
and the crop as a base64 PNG of 0/1 bytes (``img_arr_to_b64(mask.astype(np.uint8))``).
"""

from __future__ import annotations

import base64
from typing import Any

import cv2
import numpy as np


def mask_shape(mask: np.ndarray, *, label: str) -> dict[str, Any] | None:
    """The labelme shape of a 2-D boolean mask, or None when the mask is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]), int(columns[0]), int(columns[-1])
    crop = np.ascontiguousarray(mask[y0 : y1 + 1, x0 : x1 + 1], dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", crop)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise ValueError("could not encode the mask as PNG")
    return {
        "label": label,
        "points": [[x0, y0], [x1, y1]],
        "group_id": None,
        "description": "",
        "shape_type": "mask",
        "flags": {},
        "mask": base64.b64encode(encoded.tobytes()).decode("ascii"),
    }


def mask_from_shape(shape: dict[str, Any], *, rows: int, columns: int) -> np.ndarray:
    """Rasterise a labelme mask shape back onto the full image (for checks and tests)."""
    (x0, y0), (x1, y1) = (
        (round(float(shape["points"][0][0])), round(float(shape["points"][0][1]))),
        (round(float(shape["points"][1][0])), round(float(shape["points"][1][1]))),
    )
    data = np.frombuffer(base64.b64decode(shape["mask"]), dtype=np.uint8)
    crop = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if crop is None:
        raise ValueError("the mask is not a PNG image")
    if crop.ndim == 3:
        crop = crop[..., 0]
    full = np.zeros((rows, columns), dtype=bool)
    full[y0 : y1 + 1, x0 : x1 + 1] = crop.astype(bool)
    return full
