"""Which pre-labels are drawn and which are withheld: each shape's raw confidence is mapped to
the probability that it is right (the contract's calibration); under the contract's threshold
the shape is not drawn but kept as a suggestion that the user may accept.

Without a calibration (older contracts) every shape is drawn with its raw confidence."""

from __future__ import annotations

from typing import Any

from inference.runtime.contract import Calibration
from inference.runtime.predict import SlicePrediction, prediction_to_shapes


def withheld_reason(confidence: float, threshold: float) -> str:
    return f"confidence {confidence:.2f} below {threshold:.2f}"


def _raw_confidence(prediction: SlicePrediction, shape: dict[str, Any]) -> float:
    label = str(shape["label"])
    if shape["shape_type"] == "point":
        return prediction.keypoints[label].confidence
    return prediction.shape_confidence[label]


def shapes_and_suggestions(
    prediction: SlicePrediction, calibration: Calibration | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The slice's shapes to draw (confidence calibrated) and its withheld suggestions: label,
    shape type, points, calibrated and raw confidence, threshold and the reason in words."""
    shapes = prediction_to_shapes(prediction)
    if calibration is None:
        return shapes, []
    drawn: list[dict[str, Any]] = []
    withheld: list[dict[str, Any]] = []
    for shape in shapes:
        kind = calibration.keypoint if shape["shape_type"] == "point" else calibration.structure
        if kind is None:
            drawn.append(shape)
            continue
        raw = _raw_confidence(prediction, shape)
        probability = kind.map(raw)
        shape["confidence"] = round(probability, 4)
        if probability >= kind.threshold:
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
                "reason": withheld_reason(probability, kind.threshold),
            }
        )
    return drawn, withheld
