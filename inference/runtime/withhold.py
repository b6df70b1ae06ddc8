"""Which pre-labels are drawn and which are withheld: each shape's raw confidence is mapped to
the probability that it is right (the contract's calibration); under the contract's threshold
the shape is not drawn but kept as a suggestion that the user may accept. Corners read from
the wider view of a small field of view (`preprocess.keypoint_view`) are always suggestions:
their peaks do not separate right from wrong well enough to draw any (on the calibration's
cropped copies, 90 % of those over 0.95 are right, under the 95 % asked).

Without a calibration (older contracts) every shape is drawn with its raw confidence."""

from __future__ import annotations

from typing import Any

from inference.runtime.contract import Calibration
from inference.runtime.predict import SlicePrediction, prediction_to_shapes


def withheld_reason(confidence: float, threshold: float) -> str:
    return f"confidence {confidence:.2f} below {threshold:.2f}"


def wide_view_reason(span_mm: float) -> str:
    # Short, for the case page's list; the model card says why such corners are never drawn.
    return f"read from a {span_mm:.0f} mm view of a small field of view: a suggestion only"


def _raw_confidence(prediction: SlicePrediction, shape: dict[str, Any]) -> float:
    label = str(shape["label"])
    if shape["shape_type"] == "point":
        return prediction.keypoints[label].confidence
    return prediction.shape_confidence[label]


def _level_withheld(
    prediction: SlicePrediction, calibration: Calibration | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The slice's shapes less the corners the level check withheld (corners that make no
    plausible spine: level_count.check_keypoints), and those corners as suggestions."""
    shapes: list[dict[str, Any]] = []
    withheld: list[dict[str, Any]] = []
    reasons = prediction.keypoints_withheld
    threshold = calibration.keypoint.threshold if calibration and calibration.keypoint else 0.0
    for shape in prediction_to_shapes(prediction):
        reason = reasons.get(str(shape["label"])) if shape["shape_type"] == "point" else None
        if reason is None:
            shapes.append(shape)
            continue
        withheld.append(
            {
                "label": shape["label"],
                "shape_type": shape["shape_type"],
                "points": shape["points"],
                "confidence": 0.0,
                "raw_confidence": 0.0,
                "threshold": round(threshold, 4),
                "reason": f"level check: {reason}",
            }
        )
    return shapes, withheld


def shapes_and_suggestions(
    prediction: SlicePrediction, calibration: Calibration | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The slice's shapes to draw (confidence calibrated) and its withheld suggestions: label,
    shape type, points, calibrated and raw confidence, threshold and the reason in words."""
    shapes, withheld = _level_withheld(prediction, calibration)
    if calibration is None:
        return shapes, withheld
    drawn: list[dict[str, Any]] = []
    for shape in shapes:
        kind = calibration.keypoint if shape["shape_type"] == "point" else calibration.structure
        if kind is None:
            drawn.append(shape)
            continue
        raw = _raw_confidence(prediction, shape)
        probability = kind.map(raw)
        shape["confidence"] = round(probability, 4)
        # Corners of a wider view are never drawn (see the module's docstring).
        span = prediction.keypoint_span_mm if shape["shape_type"] == "point" else None
        if probability >= kind.threshold and span is None:
            drawn.append(shape)
            continue
        withheld.append(
            {
                "label": shape["label"],
                "shape_type": shape["shape_type"],
                "points": shape["points"],
                "confidence": round(probability, 4),
                "raw_confidence": round(raw, 4),
                "threshold": round(kind.threshold, 4),
                "reason": (
                    withheld_reason(probability, kind.threshold)
                    if span is None
                    else wide_view_reason(span)
                ),
            }
        )
    return drawn, withheld
