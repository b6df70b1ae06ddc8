"""A one-convolution ONNX model with a valid sagittal contract, for registry and job tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

NET = 64
TINY_CONTRACT: dict[str, Any] = {
    "task": "sagittal",
    "input": {"name": "image", "size": [NET, NET]},
    "preprocessing": {"roi": "foreground_box"},
    "outputs": {"segmentation": {"name": "seg", "labels": ["cord", "canal"]}},
    "postprocessing": {"extent": "full"},
}


def tiny_model(path: Path, *, input_name: str = "image") -> Path:
    """seg = image - 0.5 on both channels: after the sigmoid, the bright part of the slice."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "w")
    bias = numpy_helper.from_array(np.full((2,), -0.5, np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Conv", [input_name, "w", "b"], ["seg"])],
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 1, NET, NET])],
        [helper.make_tensor_value_info("seg", TensorProto.FLOAT, ["N", 2, NET, NET])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, str(path))
    return path


def register_tiny_model(folder: Path) -> Any:
    """Register the tiny model as the active sagittal model (jobs run end to end in < 1 s)."""
    from inference.models import ModelStatus
    from inference.services.registry import model_register

    return model_register(
        file=tiny_model(folder / "tiny.onnx"),
        task="sagittal",
        contract=TINY_CONTRACT,
        name="tiny",
        status=ModelStatus.ACTIVE,
    )
