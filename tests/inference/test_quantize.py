"""Int8 quantisation of an exported network (inference/training/quantize.py), on copies of the
shipped axial files (the smaller network) and on the shipped sagittal file itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from inference.runtime.contract import ModelFileError
from inference.runtime.sessions import create_session, file_sha256
from inference.runtime.shipped import SHIPPED_DIR, shipped_model
from inference.training.data import phantom_slices
from inference.training.export import ExportError
from inference.training.quantize import (
    MIN_AGREEMENT,
    is_quantised,
    mask_agreement,
    network_inputs,
    quantise_model,
    subnet_nodes,
)

SUFFIXES = (".onnx", ".pt", ".contract.json", ".metrics.json")


def _copy_axial(directory: Path) -> Path:
    for suffix in SUFFIXES:
        shutil.copy(SHIPPED_DIR / f"axial{suffix}", directory / f"axial{suffix}")
    return directory


def _state(directory: Path) -> dict[str, str]:
    return {
        "onnx": file_sha256(directory / "axial.onnx"),
        "metrics": (directory / "axial.metrics.json").read_text(encoding="utf-8"),
        "contract": (directory / "axial.contract.json").read_text(encoding="utf-8"),
    }


@pytest.fixture(scope="module")
def quantised(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str], dict[str, Any]]:
    directory = _copy_axial(tmp_path_factory.mktemp("quantised"))
    before = _state(directory)
    done = quantise_model(directory, "axial")
    return directory, before, done


def test_the_shipped_sagittal_file_is_int8_and_names_the_float_file_it_came_from() -> None:
    model = shipped_model("sagittal")  # its sha256 matches its metrics, or this raises
    assert is_quantised(model.onnx_path)
    done = model.metrics["quantisation"]
    assert done["float_sha256"] != model.sha256
    assert done["mask_agreement"]["mean"] >= MIN_AGREEMENT
    assert not is_quantised(shipped_model("axial").onnx_path)


def test_the_shipped_counting_network_stays_float() -> None:
    import onnx

    path = shipped_model("sagittal").onnx_path
    graph = onnx.load(str(path)).graph
    produced_by = {out: node.op_type for node in graph.node for out in node.output}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    counting = [n for n in convs if any(i.startswith("counter.") for i in n.input)]
    rest = [n for n in convs if n not in counting]
    # A float convolution reads its weights directly, a quantised one through a dequantisation.
    assert counting
    assert len(counting) == len(subnet_convs(path, "counter."))
    assert all(produced_by.get(n.input[1]) != "DequantizeLinear" for n in counting)
    assert rest
    assert all(produced_by.get(n.input[1]) == "DequantizeLinear" for n in rest)
    assert shipped_model("sagittal").metrics["quantisation"]["kept_float_nodes"]["counter"] > 0


def subnet_convs(path: Path, prefix: str) -> list[str]:
    import onnx

    names = set(subnet_nodes(path, prefix))
    return [
        n.name for n in onnx.load(str(path)).graph.node if n.op_type == "Conv" and n.name in names
    ]


def test_quantising_keeps_the_masks_and_rewrites_the_files_to_match(quantised) -> None:
    directory, before, done = quantised
    assert is_quantised(directory / "axial.onnx")
    metrics = json.loads((directory / "axial.metrics.json").read_text(encoding="utf-8"))
    contract = json.loads((directory / "axial.contract.json").read_text(encoding="utf-8"))
    sha = file_sha256(directory / "axial.onnx")
    assert sha != before["onnx"]
    assert metrics["sha256"] == contract["metadata"]["sha256"] == sha
    assert done["float_sha256"] == before["onnx"]
    assert done["mask_agreement"]["mean"] >= MIN_AGREEMENT
    assert done["mask_agreement"]["n"] > 0
    assert "calibration" in contract  # recalibrated on the int8 file's outputs
    assert metrics["metrics"]["phantom"]["cord_dice"]["mean"] > 0.9  # scored again, as int8
    assert shipped_model("axial", directory).sha256 == sha
    assert not list(directory.glob(".*"))  # no candidate file left behind


def test_a_file_quantised_already_is_quantised_again_from_its_checkpoint(
    quantised, tmp_path: Path
) -> None:
    # How a shipped int8 file picks up a change to the quantiser: from the float network in its
    # checkpoint, not by quantising the int8 file's dequantised weights a second time.
    source, _, first = quantised
    directory = tmp_path / "again"
    shutil.copytree(source, directory)
    done = quantise_model(directory, "axial")
    model = shipped_model("axial", directory)
    assert is_quantised(model.onnx_path)
    assert done["float_sha256"] != model.sha256
    assert done["mask_agreement"]["mean"] >= MIN_AGREEMENT
    assert model.metrics["quantisation"] == done
    # The int8 file still draws the masks of the float file shipped in the repository.
    agreement = mask_agreement(
        create_session(SHIPPED_DIR / "axial.onnx"),
        create_session(model.onnx_path),
        model.contract,
        network_inputs(model.contract, phantom_slices("axial", range(9000, 9004))),
    )
    assert agreement["n"] > 0
    assert agreement["mean"] >= MIN_AGREEMENT
    assert first["calibration"] == done["calibration"]
    assert not list(directory.glob(".*"))


def test_masks_that_disagree_refuse_the_int8_file_and_keep_the_float_one(tmp_path: Path) -> None:
    directory = _copy_axial(tmp_path)
    before = _state(directory)
    with pytest.raises(ExportError, match=r"agree with the float network's at .* Dice"):
        quantise_model(directory, "axial", min_agreement=1.01)  # no network agrees above 100 %
    assert _state(directory) == before
    assert sorted(p.name for p in directory.iterdir()) == sorted(f"axial{s}" for s in SUFFIXES)


def test_a_file_that_is_not_onnx_is_refused_naming_it(tmp_path: Path) -> None:
    directory = _copy_axial(tmp_path)
    (directory / "axial.onnx").write_bytes(b"not an onnx file")
    before = _state(directory)
    with pytest.raises(ModelFileError, match=r"axial\.onnx: not a readable ONNX file"):
        quantise_model(directory, "axial")
    assert _state(directory) == before


def test_mask_agreement_leaves_specks_out_and_counts_them(tmp_path: Path) -> None:
    import numpy as np

    from inference.runtime.contract import load_contract
    from inference.runtime.sessions import create_session
    from inference.training.quantize import MIN_UNION_PIXELS, mask_agreement
    from tests.inference.tiny import NET, TINY_CONTRACT, tiny_model

    # Two real ONNX networks: masks where the image is above 0.5, and above 0.45.
    strict = create_session(tiny_model(tmp_path / "strict.onnx", bias=-0.5))
    loose = create_session(tiny_model(tmp_path / "loose.onnx", bias=-0.45))
    contract = load_contract(TINY_CONTRACT)
    square = np.zeros((1, NET, NET), np.float32)
    square[0, 10:40, 10:40] = 0.9  # both draw it: Dice 1 on each label
    speck = np.zeros((1, NET, NET), np.float32)
    speck[0, 5:8, 5:8] = 0.48  # only the loose one draws these 9 pixels
    assert speck[0].astype(bool).sum() < MIN_UNION_PIXELS
    found = mask_agreement(strict, loose, contract, [square, speck])
    assert found == {"mean": 1.0, "min": 1.0, "n": 2, "skipped_small": 2}
    rim = square.copy()
    rim[0, 40:44, 10:40] = 0.48  # a band of 120 pixels the strict network leaves out
    partial = mask_agreement(strict, loose, contract, [rim])
    assert partial["n"] == 2
    assert partial["skipped_small"] == 0
    assert partial["mean"] == pytest.approx(2 * 900 / (900 + 1020))
