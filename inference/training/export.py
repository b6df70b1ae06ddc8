"""ONNX export of a trained network as one self-contained file with a dynamic batch axis, and
the check that ONNX Runtime reproduces torch (difference below 1e-4: absolute for outputs up to
magnitude 1, relative beyond, see `verify_onnx`)."""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from inference.runtime.contract import ModelContract, ModelError
from inference.runtime.sessions import create_session

DEFAULT_TOLERANCE = 1e-4
OPSET = 18


class ExportError(ModelError):
    """The export failed or ONNX Runtime disagrees with torch."""


def export_onnx(
    model: torch.nn.Module,
    path: str | Path,
    *,
    input_size: tuple[int, int],
    channels: int = 1,
    input_name: str = "image",
    output_names: Sequence[str] = ("segmentation", "heatmaps"),
) -> Path:
    """Writes the model to `path` (atomically) as a single ONNX file (weights inside, no
    external data), input `input_name` of shape (batch, channels, H, W) with a dynamic batch."""
    target = Path(path)
    model = model.cpu().eval().to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    example = torch.zeros(2, channels, *input_size)
    with torch.no_grad():
        n_outputs = len(model(example))
    names = list(output_names)[:n_outputs]
    if len(names) != n_outputs:
        raise ExportError(f"the model has {n_outputs} outputs but {len(names)} names were given")
    batch = torch.export.Dim("batch", min=1, max=1024)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_file = Path(tmp) / target.name
        # The exporter logs about missing torchvision ops and deprecations: not ours.
        quiet = logging.getLogger("torch.onnx")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model,
                    (example,),
                    str(tmp_file),
                    dynamo=True,
                    external_data=False,
                    input_names=[input_name],
                    output_names=names,
                    dynamic_shapes=({0: batch},),
                    opset_version=OPSET,
                    optimize=True,
                    verbose=False,
                )
        except Exception as exc:  # the exporter raises many kinds of errors
            raise ExportError(f"ONNX export failed: {exc}") from exc
        finally:
            quiet.setLevel(level)
        extra = sorted(p.name for p in Path(tmp).iterdir() if p != tmp_file)
        if extra:
            raise ExportError(f"the export wrote external data files {extra}; expected one file")
        tmp_file.replace(target)
    return target


def verify_onnx(
    model: torch.nn.Module,
    path: str | Path,
    *,
    input_size: tuple[int, int],
    channels: int = 1,
    real_inputs: Sequence[np.ndarray] = (),
    tolerance: float = DEFAULT_TOLERANCE,
    seed: int = 0,
) -> float:
    """Largest difference between torch and ONNX Runtime (CPU) outputs on random inputs and
    on `real_inputs` (network-ready (channels, H, W) arrays), with batches of 1 and 3, each
    element's |torch - onnx| divided by max(1, |torch|): absolute up to magnitude 1 (the
    heatmaps, and the logits where a mask's edge is decided), relative beyond, where float32
    summation order alone moves a logit of 30 by more than 1e-4 without changing any mask.
    Raises ExportError when it is not below `tolerance`."""
    model = model.cpu().eval().to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    session = create_session(path, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    rng = np.random.default_rng(seed)
    batches = [
        rng.random((1, channels, *input_size), dtype=np.float32),
        rng.random((3, channels, *input_size), dtype=np.float32),
    ]
    if real_inputs:
        batches.append(np.stack([np.asarray(x, dtype=np.float32) for x in real_inputs]))
    worst = 0.0
    for batch in batches:
        with torch.no_grad():
            expected = [t.numpy() for t in model(torch.from_numpy(batch))]
        got = session.run(None, {input_name: batch})
        if len(got) != len(expected):
            raise ExportError(f"ONNX model has {len(got)} outputs, torch {len(expected)}")
        for e, g in zip(expected, got, strict=True):
            if e.shape != g.shape:
                raise ExportError(f"output shape {g.shape} from ONNX, {e.shape} from torch")
            if not (np.isfinite(e).all() and np.isfinite(g).all()):
                # max() ignores NaN: a diverged network would otherwise pass the check.
                raise ExportError("the network gives non-finite outputs (NaN or infinity)")
            scaled = np.abs(e - g) / np.maximum(1.0, np.abs(e))
            worst = max(worst, float(scaled.max()))
    if not worst < tolerance:
        raise ExportError(f"ONNX Runtime differs from torch by {worst:.3g} (limit {tolerance:g})")
    return worst


def export_and_verify(
    model: torch.nn.Module,
    path: str | Path,
    contract: ModelContract,
    *,
    real_inputs: Sequence[np.ndarray] = (),
) -> float:
    """Exports with the contract's names and size, verifies, and checks the contract against
    the graph; returns the largest difference (`verify_onnx`). The file is removed when a check
    fails."""
    from inference.runtime.model_check import contract_check_against_model

    names = [contract.segmentation.name]
    if contract.heatmap is not None:
        names.append(contract.heatmap.name)
    size = (contract.input.height, contract.input.width)
    target = export_onnx(
        model, path, input_size=size, channels=contract.input.channels,
        input_name=contract.input.name, output_names=names,
    )  # fmt: skip
    try:
        diff = verify_onnx(
            model,
            target,
            input_size=size,
            channels=contract.input.channels,
            real_inputs=real_inputs,
        )
        contract_check_against_model(contract, target)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return diff
