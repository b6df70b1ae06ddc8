"""Checks a model contract against an ONNX graph: names, channel counts, sizes and dtypes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inference.runtime.contract import ContractError, ModelContract, ModelFileError


def _dims(value_info: Any) -> list[int | str | None] | None:
    tensor = value_info.type.tensor_type
    if not tensor.HasField("shape"):
        return None
    out: list[int | str | None] = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value"):
            out.append(int(dim.dim_value))
        elif dim.HasField("dim_param"):
            out.append(str(dim.dim_param))
        else:
            out.append(None)
    return out


def _check_tensor(
    errors: list[str], what: str, value_info: Any, expected: Sequence[int | None]
) -> None:
    """Compares a graph tensor with the expected NCHW shape (None: any size)."""
    if value_info.type.tensor_type.elem_type != 1:  # onnx.TensorProto.FLOAT
        errors.append(f"{what}: the model's tensor is not float32")
    dims = _dims(value_info)
    if dims is None:
        return
    if len(dims) != len(expected):
        errors.append(f"{what}: the model's tensor has rank {len(dims)}, expected {len(expected)}")
        return
    axes = ("batch", "channels", "height", "width")
    for axis, got, want in zip(axes, dims, expected, strict=True):
        if want is not None and isinstance(got, int) and got != want:
            errors.append(f"{what}: {axis} is {got} in the model, the contract implies {want}")


def load_onnx_model(onnx_path: str | Path) -> Any:
    """Loads and checks an ONNX file; raises ModelFileError with the reason when it is bad."""
    import onnx

    path = Path(onnx_path)
    if not path.is_file():
        raise ModelFileError(f"model file {path}: not found")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf raises DecodeError, others raise ValueError / OSError
        raise ModelFileError(f"model file {path}: not a valid ONNX model ({exc})") from exc
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx.checker.ValidationError and friends
        raise ModelFileError(f"model file {path}: fails the ONNX checker ({exc})") from exc
    if len(model.graph.node) == 0:
        raise ModelFileError(f"model file {path}: the graph is empty")
    return model


def contract_check_against_model(contract: ModelContract, onnx_path: str | Path) -> None:
    """Checks the contract's names, channel counts, sizes and dtypes against the ONNX graph.

    Raises ModelFileError for an unreadable file and ContractError listing every mismatch.
    Symbolic (dynamic) dimensions in the graph match any size.
    """
    model = load_onnx_model(onnx_path)
    graph = model.graph
    initialisers = {init.name for init in graph.initializer}
    inputs = {vi.name: vi for vi in graph.input if vi.name not in initialisers}
    outputs = {vi.name: vi for vi in graph.output}
    errors: list[str] = []
    c = contract
    if c.input.name not in inputs:
        errors.append(f"input.name: {c.input.name!r} is not an input of the model {sorted(inputs)}")
    else:
        _check_tensor(
            errors,
            f"input {c.input.name!r}",
            inputs[c.input.name],
            (None, c.input.channels, c.input.height, c.input.width),
        )
    extra = sorted(set(inputs) - {c.input.name})
    if extra:
        errors.append(f"the model has inputs the contract does not feed: {extra}")
    heads: list[tuple[str, str, int, int]] = [
        (
            "outputs.segmentation",
            c.segmentation.name,
            c.segmentation.channels,
            c.segmentation.stride,
        )
    ]
    if c.heatmap is not None:
        heads.append(("outputs.heatmap", c.heatmap.name, c.heatmap.channels, c.heatmap.stride))
    for path, name, channels, stride in heads:
        if name not in outputs:
            errors.append(f"{path}.name: {name!r} is not an output of the model {sorted(outputs)}")
            continue
        _check_tensor(
            errors,
            f"output {name!r}",
            outputs[name],
            (None, channels, c.input.height // stride, c.input.width // stride),
        )
    if errors:
        raise ContractError(errors)
