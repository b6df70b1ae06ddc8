"""The wider keypoint view of a small field of view (issue 14: corners at the scale they were
trained on), as shipped, and the script that chose its span on held-out synthetic crops."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from inference.runtime.sessions import create_session
from inference.runtime.shipped import shipped_model
from inference.training.train import KEYPOINT_MIN_SPAN_MM

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "choose_keypoint_span.py"


@pytest.fixture(scope="module")
def chooser() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("choose_keypoint_span_under_test", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_the_shipped_sagittal_contract_reads_corners_at_the_trained_span() -> None:
    contract = shipped_model("sagittal").contract
    assert contract.preprocessing.keypoint_min_span_mm == KEYPOINT_MIN_SPAN_MM
    assert shipped_model("axial").contract.preprocessing.keypoint_min_span_mm is None


def test_the_synthetic_crops_hold_a_few_vertebrae_like_the_real_crops(chooser: ModuleType) -> None:
    crops = chooser.synthetic_crops(4)
    for crop in crops:
        height_mm = crop.image.shape[0] * crop.spacing[0]
        assert 40.0 <= height_mm <= 110.0
        inside = np.isfinite(crop.corners[:, 0])
        # C3 to C5 (the first twelve corners) are inside but for an anterior corner or two
        # that the width may cut; C7 is cut off.
        assert inside[:12].sum() >= 10
        assert not inside[16:].any()


def test_the_chosen_span_reads_the_crops_corners_closer_than_the_crop_itself(
    chooser: ModuleType,
) -> None:
    model = shipped_model("sagittal")
    session = create_session(model.onnx_path)
    crops = chooser.synthetic_crops(6)
    own = chooser.span_errors(session, model.contract, crops, None)
    wide = chooser.span_errors(session, model.contract, crops, KEYPOINT_MIN_SPAN_MM)
    assert len(own) == len(wide) == sum(int(np.isfinite(c.corners[:, 0]).sum()) for c in crops)
    assert np.median(wide) < np.median(own)
