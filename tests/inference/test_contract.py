"""The model contract: field-level validation and the check against an ONNX graph."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from inference.runtime.contract import (
    ContractError,
    ModelFileError,
    contract_from_dict,
    contract_to_dict,
    load_contract,
)
from inference.runtime.model_check import contract_check_against_model

KEYPOINTS = [f"C{v}_{c}" for v in range(3, 8) for c in ("AS", "AI", "PS", "PI")]


def sagittal_contract() -> dict[str, Any]:
    return {
        "format": "spinelabel-model-contract",
        "version": 1,
        "task": "sagittal",
        "input": {"name": "image", "size": [32, 32], "channels": 1},
        "normalisation": {"type": "percentile", "low": 0.5, "high": 99.5},
        "preprocessing": {"roi": "foreground_box", "foreground_threshold": 50},
        "outputs": {
            "segmentation": {"name": "segmentation", "labels": ["cord", "canal"]},
            "heatmap": {"name": "heatmaps", "keypoints": KEYPOINTS, "stride": 1},
        },
        "postprocessing": {"extent": "c2c3_to_c7t1"},
    }


def write_model(
    path: Path,
    *,
    input_name: str = "image",
    channels: int = 1,
    size: int = 32,
    seg: int = 2,
    heat: int = 20,
) -> Path:
    """A one-convolution ONNX model with a dynamic batch and the given names and sizes."""
    rng = np.random.default_rng(0)
    nodes, outputs, inits = [], [], []
    for name, out_channels in (("segmentation", seg), ("heatmaps", heat)):
        if not out_channels:
            continue
        weight = rng.normal(size=(out_channels, channels, 1, 1)).astype(np.float32)
        inits.append(numpy_helper.from_array(weight, f"{name}_w"))
        nodes.append(helper.make_node("Conv", [input_name, f"{name}_w"], [name]))
        outputs.append(
            helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", out_channels, size, size])
        )
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", channels, size, size])],
        outputs,
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, str(path))
    return path


def test_it_round_trips_a_valid_contract():
    contract = contract_from_dict(sagittal_contract())
    again = contract_from_dict(json.loads(json.dumps(contract_to_dict(contract))))
    assert again == contract
    assert contract.heatmap is not None
    assert contract.heatmap.keypoints == tuple(KEYPOINTS)
    assert contract.segmentation.channels == 2


def test_it_lists_every_field_error_at_once():
    data = sagittal_contract()
    data["input"]["size"] = [32]
    data["outputs"]["segmentation"]["labels"] = ["cord", "cord"]
    data["normalisation"]["type"] = "histogram"
    data["lables"] = []
    with pytest.raises(ContractError) as info:
        contract_from_dict(data)
    errors = "\n".join(info.value.errors)
    assert "input.size" in errors
    assert "duplicate name 'cord'" in errors
    assert "normalisation.type" in errors
    assert "contract.lables: unknown field" in errors


def test_it_requires_the_task_and_a_known_one():
    data = sagittal_contract()
    del data["task"]
    with pytest.raises(ContractError, match="task: is required"):
        contract_from_dict(data)
    data["task"] = "coronal"
    with pytest.raises(ContractError, match="must be one of"):
        contract_from_dict(data)


def test_it_needs_exactly_one_crop_size_for_a_centre_crop():
    data = sagittal_contract()
    data["preprocessing"] = {"roi": "centre_crop"}
    with pytest.raises(ContractError, match="exactly one of crop_mm and crop_px"):
        contract_from_dict(data)
    data["preprocessing"] = {"roi": "centre_crop", "crop_mm": 80, "crop_px": 200}
    with pytest.raises(ContractError, match="exactly one of crop_mm and crop_px"):
        contract_from_dict(data)


def test_it_refuses_a_stride_that_does_not_divide_the_input():
    data = sagittal_contract()
    data["outputs"]["heatmap"]["stride"] = 5
    with pytest.raises(ContractError, match=r"outputs.heatmap.stride: 5 does not divide"):
        contract_from_dict(data)


def test_it_refuses_the_extent_rule_without_the_corner_keypoints():
    data = sagittal_contract()
    data["outputs"]["heatmap"]["keypoints"] = KEYPOINTS[:8]
    with pytest.raises(ContractError, match=r"postprocessing\.extent: needs heatmap keypoints"):
        contract_from_dict(data)


def test_it_refuses_contains_with_unknown_labels():
    data = sagittal_contract()
    data["outputs"]["segmentation"]["contains"] = {"canal": ["csf"]}
    with pytest.raises(ContractError, match="unknown or self labels"):
        contract_from_dict(data)


def test_it_reports_bad_json_and_missing_files(tmp_path):
    with pytest.raises(ContractError, match="not valid JSON"):
        load_contract('{"task": ')
    with pytest.raises(ContractError, match="cannot be read"):
        load_contract(tmp_path / "missing.json")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(sagittal_contract()))
    assert load_contract(path).task == "sagittal"


def test_counting_channels_follow_the_keypoints_and_round_trip(tmp_path):
    data = sagittal_contract()
    data["outputs"]["heatmap"]["counting"] = ["dens_tip", "bodies"]
    contract = contract_from_dict(data)
    assert contract.heatmap is not None
    assert contract.heatmap.counting == ("dens_tip", "bodies")
    assert contract.heatmap.channels == 22
    assert contract_from_dict(json.loads(json.dumps(contract_to_dict(contract)))) == contract
    contract_check_against_model(contract, write_model(tmp_path / "m.onnx", heat=22))
    with pytest.raises(ContractError, match="channels is 20 in the model, the contract implies 22"):
        contract_check_against_model(contract, write_model(tmp_path / "n.onnx", heat=20))


def test_corners_drawn_only_where_counted_need_the_counting_channels_and_round_trip():
    data = sagittal_contract()
    assert contract_from_dict(data).postprocessing.corner_levels == "any"  # older contracts
    data["postprocessing"] = {**data.get("postprocessing", {}), "corner_levels": "counted"}
    with pytest.raises(ContractError) as info:
        contract_from_dict(data)
    assert "postprocessing.corner_levels: counted needs the heatmap's counting channels" in (
        "\n".join(info.value.errors)
    )
    data["outputs"]["heatmap"]["counting"] = ["dens_tip", "bodies"]
    contract = contract_from_dict(data)
    assert contract.postprocessing.corner_levels == "counted"
    assert contract_from_dict(json.loads(json.dumps(contract_to_dict(contract)))) == contract
    data["postprocessing"]["corner_levels"] = "some"
    with pytest.raises(ContractError, match="corner_levels"):
        contract_from_dict(data)


@pytest.mark.parametrize(
    ("counting", "message"),
    [
        (["dens_tip", "spleen"], "outputs.heatmap.counting: ['spleen'] unknown"),
        (["bodies"], "outputs.heatmap.counting: needs all of ['dens_tip', 'bodies']"),
        (["bodies", "bodies"], "outputs.heatmap.counting[1]: duplicate name 'bodies'"),
        ("bodies", "outputs.heatmap.counting: must be a non-empty list of names"),
    ],
)
def test_it_refuses_counting_channels_it_cannot_decode(counting, message):
    data = sagittal_contract()
    data["outputs"]["heatmap"]["counting"] = counting
    with pytest.raises(ContractError) as info:
        contract_from_dict(data)
    assert message in "\n".join(info.value.errors)


def test_the_lateral_extent_reads_per_label_half_widths_and_round_trips():
    data = sagittal_contract()
    data["postprocessing"]["lateral_extent_mm"] = {"cord": 8, "canal": 12.5}
    contract = contract_from_dict(data)
    assert contract.postprocessing.lateral_extent_mm == {"cord": 8.0, "canal": 12.5}
    assert contract_from_dict(json.loads(json.dumps(contract_to_dict(contract)))) == contract
    assert contract_from_dict(sagittal_contract()).postprocessing.lateral_extent_mm == {}


@pytest.mark.parametrize(
    ("extent", "task", "message"),
    [
        ({"csf": 8}, "sagittal", "postprocessing.lateral_extent_mm.csf: not a segmentation label"),
        ({"cord": 0}, "sagittal", "postprocessing.lateral_extent_mm.cord: must be a number in"),
        ({"cord": "8"}, "sagittal", "postprocessing.lateral_extent_mm.cord: must be a number in"),
        ([8], "sagittal", "postprocessing.lateral_extent_mm: must be an object"),
        ({"cord": 8}, "axial", "postprocessing.lateral_extent_mm: only for sagittal models"),
    ],
)
def test_it_refuses_a_lateral_extent_it_cannot_apply(extent, task, message):
    data = sagittal_contract()
    data["postprocessing"]["lateral_extent_mm"] = extent
    if task == "axial":
        data["task"] = "axial"
        data["outputs"].pop("heatmap")
        data["postprocessing"].pop("extent")
    with pytest.raises(ContractError) as info:
        contract_from_dict(data)
    assert message in "\n".join(info.value.errors)


def test_a_matching_model_passes_the_check(tmp_path):
    model = write_model(tmp_path / "m.onnx")
    contract_check_against_model(contract_from_dict(sagittal_contract()), model)


def test_it_lists_every_mismatch_with_the_graph(tmp_path):
    model = write_model(tmp_path / "m.onnx", input_name="input", seg=3, heat=19)
    data = sagittal_contract()
    with pytest.raises(ContractError) as info:
        contract_check_against_model(contract_from_dict(data), model)
    errors = "\n".join(info.value.errors)
    assert "input.name: 'image' is not an input of the model ['input']" in errors
    assert "output 'segmentation': channels is 3 in the model, the contract implies 2" in errors
    assert "output 'heatmaps': channels is 19 in the model, the contract implies 20" in errors


def test_it_refuses_a_size_or_channel_mismatch(tmp_path):
    model = write_model(tmp_path / "m.onnx", channels=3, size=64)
    with pytest.raises(ContractError) as info:
        contract_check_against_model(contract_from_dict(sagittal_contract()), model)
    errors = "\n".join(info.value.errors)
    assert "input 'image': channels is 3 in the model, the contract implies 1" in errors
    assert "height is 64 in the model, the contract implies 32" in errors


def test_softmax_needs_a_background_channel(tmp_path):
    model = write_model(tmp_path / "m.onnx", seg=2, heat=0)
    data = sagittal_contract()
    data["outputs"]["heatmap"] = None
    data["postprocessing"] = {}
    data["outputs"]["segmentation"]["activation"] = "softmax"
    with pytest.raises(ContractError, match="channels is 2 in the model, the contract implies 3"):
        contract_check_against_model(contract_from_dict(data), model)


def test_it_refuses_a_missing_heatmap_output(tmp_path):
    model = write_model(tmp_path / "m.onnx", heat=0)
    with pytest.raises(ContractError, match="'heatmaps' is not an output of the model"):
        contract_check_against_model(contract_from_dict(sagittal_contract()), model)


def test_it_refuses_a_corrupt_or_truncated_onnx_file(tmp_path):
    contract = contract_from_dict(sagittal_contract())
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not a protobuf \x00\xff" * 10)
    with pytest.raises(ModelFileError, match=r"garbage\.onnx"):
        contract_check_against_model(contract, garbage)
    good = write_model(tmp_path / "m.onnx").read_bytes()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelFileError, match=r"truncated\.onnx"):
        contract_check_against_model(contract, truncated)
    with pytest.raises(ModelFileError, match="not found"):
        contract_check_against_model(contract, tmp_path / "absent.onnx")


def test_it_refuses_a_graph_that_fails_the_onnx_checker(tmp_path):
    path = write_model(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    broken = copy.deepcopy(model)
    broken.graph.node[0].input[1] = "no_such_weight"
    onnx.save(broken, str(path))
    with pytest.raises(ModelFileError, match="fails the ONNX checker"):
        contract_check_against_model(contract_from_dict(sagittal_contract()), path)
