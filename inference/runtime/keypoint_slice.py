"""Which slice of a sagittal series carries the model's corner keypoints: seed 003 labels the
corners on the slice that shows cord and canal largest. Shared by the pre-label job and the
scores on the real references, so both judge the corners the user is shown."""

from __future__ import annotations

from collections.abc import Sequence

from inference.runtime.predict import SlicePrediction


def keypoint_slice(predictions: Sequence[SlicePrediction]) -> int:
    """Index of the prediction whose masks cover the most pixels (the first on a tie)."""

    def area(prediction: SlicePrediction) -> int:
        return sum(int(mask.sum()) for mask in prediction.masks.values())

    return max(range(len(predictions)), key=lambda i: area(predictions[i]))
