"""Small things for tests: a one-convolution ONNX model with a valid sagittal contract (registry
and job tests), and a tiny training recipe (training tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

NET = 64
# train() overrides for a network that trains in seconds: 64 x 64 input, three levels.
TINY: dict[str, Any] = {
    "input_size": (64, 64), "widths": (8, 16, 32), "heatmap_level": 1, "threads": 1,
}  # fmt: skip
TINY_CONTRACT: dict[str, Any] = {
    "task": "sagittal",
    "input": {"name": "image", "size": [NET, NET]},
    "preprocessing": {"roi": "foreground_box"},
    "outputs": {"segmentation": {"name": "seg", "labels": ["cord", "canal"]}},
    "postprocessing": {"extent": "full"},
}


def tiny_model(
    path: Path, *, input_name: str = "image", kernel: np.ndarray | None = None, bias: float = -0.5
) -> Path:
    """seg = conv(image, kernel) + bias on both channels, the same size as the image; by
    default image - 0.5: after the sigmoid, the bright part of the slice."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    taps = np.ones((1, 1), np.float32) if kernel is None else np.asarray(kernel, np.float32)
    kh, kw = taps.shape
    weight = numpy_helper.from_array(np.stack([taps[None]] * 2), "w")
    biases = numpy_helper.from_array(np.full((2,), bias, np.float32), "b")
    pads = [kh // 2, kw // 2, kh // 2, kw // 2]
    graph = helper.make_graph(
        [helper.make_node("Conv", [input_name, "w", "b"], ["seg"], pads=pads)],
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 1, NET, NET])],
        [helper.make_tensor_value_info("seg", TensorProto.FLOAT, ["N", 2, NET, NET])],
        initializer=[weight, biases],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def record_batches(session: Any, feed: str = "image") -> list[int]:
    """The batch size of `feed` in every run of `session` from now on (each run still goes to
    ONNX Runtime); recorders stack."""
    calls: list[int] = []
    run = session.run

    def recording(names: list[str], feeds: dict[str, np.ndarray], *args: Any) -> Any:
        calls.append(feeds[feed].shape[0])
        return run(names, feeds, *args)

    session.run = recording
    return calls


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
