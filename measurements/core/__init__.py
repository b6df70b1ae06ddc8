"""Pure measurement, agreement and fusion layer: numpy/scipy/shapely/OpenCV/SimpleITK only,
no Django imports.

Lengths are mm and areas mm², computed in physical coordinates from labelme pixel
coordinates and (row_mm, col_mm) spacing; definitions in docs of each module.
"""

from measurements.core.agreement import (
    KeypointErrors,
    Overlap,
    dice,
    hd95,
    iou,
    keypoint_errors,
    region_overlap,
    success_rates,
)
from measurements.core.axial import AxialResult, measure_axial
from measurements.core.case import ALGORITHM_VERSION, detect_view, measure_image_shapes
from measurements.core.errors import InvalidInput, MeasurementError, MissingInput
from measurements.core.fusion import (
    FusionError,
    Provenance,
    SourceRevision,
    StapleResult,
    keypoint_mean,
    majority_vote,
    mask_to_polygon,
    shape_to_mask,
    staple,
)
from measurements.core.geometry import Chord
from measurements.core.labelme import ParsedShapes, parse_shapes
from measurements.core.manual import ManualResult, measure_manual
from measurements.core.morphometry import (
    DISC_LEVELS,
    REFERENCE_RANGES,
    LevelMorphometry,
    measure_level,
    morphometry_table,
)
from measurements.core.regions import Region, decode_labelme_mask, encode_labelme_mask
from measurements.core.sagittal import (
    REFERENCES,
    LayerProfile,
    SagittalResult,
    measure_sagittal,
    measure_sagittal_references,
)
from measurements.core.shape_metrics import (
    ShapeMetrics,
    axial_stack,
    shape_metrics,
    shape_metrics_per_slice,
)
from measurements.core.stats import BlandAltmanResult, ICCResult, ICCValue, bland_altman, icc

__all__ = [
    "ALGORITHM_VERSION",
    "DISC_LEVELS",
    "REFERENCES",
    "REFERENCE_RANGES",
    "AxialResult",
    "BlandAltmanResult",
    "Chord",
    "FusionError",
    "ICCResult",
    "ICCValue",
    "InvalidInput",
    "KeypointErrors",
    "LayerProfile",
    "LevelMorphometry",
    "ManualResult",
    "MeasurementError",
    "MissingInput",
    "Overlap",
    "ParsedShapes",
    "Provenance",
    "Region",
    "SagittalResult",
    "ShapeMetrics",
    "SourceRevision",
    "StapleResult",
    "axial_stack",
    "bland_altman",
    "decode_labelme_mask",
    "detect_view",
    "dice",
    "encode_labelme_mask",
    "hd95",
    "icc",
    "iou",
    "keypoint_errors",
    "keypoint_mean",
    "majority_vote",
    "mask_to_polygon",
    "measure_axial",
    "measure_image_shapes",
    "measure_level",
    "measure_manual",
    "measure_sagittal",
    "measure_sagittal_references",
    "morphometry_table",
    "parse_shapes",
    "region_overlap",
    "shape_metrics",
    "shape_metrics_per_slice",
    "shape_to_mask",
    "staple",
    "success_rates",
]
