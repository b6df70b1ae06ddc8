"""Rules of retraining that need no run: when a candidate beats the active model, and the
export check refusing a network that gives NaN (a diverged fine-tune)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.models import RetrainPolicy
from inference.services.promotion import candidate_beats
from inference.training.export import ExportError, verify_onnx
from tests.inference.tiny import NET, tiny_model

POLICY = RetrainPolicy(margin_dice=0.01, margin_keypoint_mm=0.25)


def _metrics(cord: float, canal: float, keypoints: float | None) -> dict[str, object]:
    out: dict[str, object] = {"cord_dice": {"mean": cord}, "canal_dice": {"mean": canal}}
    if keypoints is not None:
        out["keypoint_mre_mm"] = {"mean": keypoints}
    return out


@pytest.mark.parametrize(
    ("candidate", "active", "beats"),
    [
        (_metrics(0.90, 0.90, 1.0), _metrics(0.85, 0.85, 1.5), True),
        # Dice better by less than the margin (mean over structures: +0.005).
        (_metrics(0.86, 0.85, 1.0), _metrics(0.855, 0.845, 1.5), False),
        # Dice better, keypoints worse or not better by the margin.
        (_metrics(0.90, 0.90, 1.6), _metrics(0.85, 0.85, 1.5), False),
        (_metrics(0.90, 0.90, 1.4), _metrics(0.85, 0.85, 1.5), False),
        # Tune gold without keypoints: Dice alone decides.
        (_metrics(0.90, 0.90, None), _metrics(0.85, 0.85, None), True),
        # Keypoints measured for one model only: no fair comparison.
        (_metrics(0.90, 0.90, None), _metrics(0.85, 0.85, 1.5), False),
        # Nothing measured.
        ({}, _metrics(0.85, 0.85, 1.5), False),
    ],
)
def test_a_candidate_beats_the_active_model_only_by_both_margins(
    candidate: dict[str, object], active: dict[str, object], beats: bool
) -> None:
    assert candidate_beats(candidate=candidate, active=active, policy=POLICY) is beats


def test_the_export_check_refuses_a_network_that_gives_nan(tmp_path: Path) -> None:
    import torch

    class Net(torch.nn.Module):
        """One 1x1 convolution; its outputs as a tuple, as the product's networks give."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 1)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
            return (self.conv(x),)

    net = Net()
    with torch.no_grad():
        net.conv.weight.fill_(float("nan"))
    path = tiny_model(tmp_path / "t.onnx")
    with pytest.raises(ExportError, match="non-finite"):
        verify_onnx(net, path, input_size=(NET, NET))
    # The same check passes a finite network that matches the file (seg = image - 0.5).
    with torch.no_grad():
        net.conv.weight.fill_(1.0)
        bias = net.conv.bias
        assert bias is not None
        bias.fill_(-0.5)
    difference = verify_onnx(net, path, input_size=(NET, NET))
    assert np.isfinite(difference)
    assert difference < 1e-4
