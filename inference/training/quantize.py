"""Static int8 quantisation of an exported network (ONNX QDQ: int8 weights per output channel in
a 7-bit range, uint8 activations, ranges calibrated on its own training inputs), written in
place of the float file once its masks are shown to agree with the float network's on the
held-out inputs.

Why: the sagittal path runs the network twice on a small crop (the slice and the keypoint view),
and on a 2-core CPU in its slow state (the second core adding nothing) the float network took
36-38 ms a 60 mm crop against the 30 ms target; the int8 file (its counting network in float,
KEEP_FLOAT) took 28-29 ms there, 22-25 against 28-29 ms on the full field of view (2026-12-07,
AMD EPYC), with the real references scored alike (full-FOV corners 3.53 mm both, canal within the
band 98.1 against 98.2 %). ONNX Runtime's CPU provider runs the QDQ pairs around a convolution as
an integer convolution. The float network stays the source: the .pt checkpoint is what
fine-tuning starts from (a retrain of an int8 model is quantised again by finetune.py, checked
on the tune split's gold), and `make models` quantises its fresh export again.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inference.runtime.contract import ModelContract, ModelFileError, load_contract
from inference.runtime.preprocess import preprocess
from inference.runtime.sessions import create_session, file_sha256
from inference.training.data import TrainingSlice, phantom_slices, real_slices
from inference.training.export import ExportError, export_and_verify

if TYPE_CHECKING:
    from inference.training.train import TrainConfig

# Mean Dice, over the held-out inputs and labels, between the float and the int8 masks.
MIN_AGREEMENT = 0.97
# Masks whose union is smaller (network pixels) are left out of that mean: Dice on a speck says
# nothing (a retrain of the shipped sagittal model was refused at 96.6 % because on one slice
# the float network drew no cord and the int8 one a few pixels; the rest averaged 98 %).
MIN_UNION_PIXELS = 50
# Sub-networks (by their weights' name prefix) left in float: the counting network, whose peaks
# name the vertebrae; quantised with the rest it named more held-out synthetic levels wrong
# (cervical views 22 against 18 of 178) and, on a phantom, withheld corners the float one kept.
KEEP_FLOAT: tuple[str, ...] = ("counter.",)
# Calibration inputs: the training volumes' slices and this many training phantoms.
CALIBRATION_PHANTOMS = 16
QUANTISED_OPS = ("QuantizeLinear", "DequantizeLinear")
FORMAT = "ONNX QDQ: int8 weights per output channel (7-bit range), uint8 activations"


def _graph(onnx_path: Path) -> Any:
    """The file's ONNX graph; ModelFileError, naming the file, when it is none."""
    import onnx

    try:
        return onnx.load(str(onnx_path), load_external_data=False).graph
    except Exception as exc:  # protobuf's DecodeError, OSError, ...
        raise ModelFileError(f"{onnx_path}: not a readable ONNX file ({exc})") from exc


def is_quantised(onnx_path: Path) -> bool:
    return any(node.op_type in QUANTISED_OPS for node in _graph(onnx_path).node)


def subnet_nodes(onnx_path: Path, prefix: str) -> list[str]:
    """The nodes of the sub-network whose weights are named `prefix`...: those that read its
    weights, everything downstream of them, and the nodes upstream that feed nothing else."""
    graph = _graph(onnx_path)
    weights = {i.name for i in graph.initializer if i.name.startswith(prefix)}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    chosen = {n.name for n in graph.node if weights & set(n.input)}
    queue = [n for n in graph.node if n.name in chosen]
    while queue:  # downstream
        for out in queue.pop().output:
            for after in consumers.get(out, []):
                if after.name not in chosen:
                    chosen.add(after.name)
                    queue.append(after)
    # Where the sub-network's output joins the rest (a concatenation): nothing upstream of it
    # through its other inputs belongs to the sub-network.
    joins = {
        n.name
        for n in graph.node
        if n.name in chosen
        and any(i in producer and producer[i].name not in chosen for i in n.input)
        and not weights & set(n.input)
    }
    grown = True
    while grown:  # upstream, where every reader is in the sub-network (not at a join)
        grown = False
        for node in graph.node:
            readers = [r for out in node.output for r in consumers.get(out, [])]
            if (
                node.name not in chosen
                and readers
                and all(r.name in chosen and r.name not in joins for r in readers)
            ):
                chosen.add(node.name)
                grown = True
    return sorted(chosen)


def training_slices(cfg: TrainConfig) -> list[TrainingSlice]:
    """The activation-range calibration inputs of a recipe (a TrainConfig): its real training
    slices and its first CALIBRATION_PHANTOMS training phantoms."""
    return real_slices(cfg.task, cfg.real_train) + phantom_slices(
        cfg.task, cfg.phantom_train_seeds[:CALIBRATION_PHANTOMS], sagittal_offsets=(0,)
    )


def network_inputs(contract: ModelContract, slices: Sequence[TrainingSlice]) -> list[np.ndarray]:
    return [preprocess(s.image, s.spacing, contract).tensor for s in slices]


def quantise_file(
    src: Path,
    dst: Path,
    inputs: Sequence[np.ndarray],
    input_name: str,
    *,
    keep_float: Sequence[str] = (),
) -> None:
    """Writes the int8 version of `src` to `dst` (atomically), its activation ranges taken
    from `inputs` (network-ready (channels, H, W) arrays); `keep_float`: nodes left float."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.feeds = iter([{input_name: x[None].astype(np.float32)} for x in inputs])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    if not inputs:
        raise ExportError(f"{src}: no calibration inputs to quantise with")
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp:
        prepared, out = Path(tmp) / "prepared.onnx", Path(tmp) / dst.name
        quant_pre_process(str(src), str(prepared))
        # 7-bit weights (reduce_range): on x86 CPUs without VNNI (AVX2 only, such as the AMD
        # EPYC Milan CI machine) ONNX Runtime's u8 x s8 kernels saturate 16-bit sums with full
        # 8-bit weights; a fine-tuned axial network's masks agreed at 95.6 % there, at 99.6 %
        # with 7 bits.
        quantize_static(
            str(prepared), str(out), Reader(),
            quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
            nodes_to_exclude=list(keep_float),
        )  # fmt: skip
        out.replace(dst)


def mask_agreement(
    float_session: Any, int8_session: Any, contract: ModelContract, inputs: Sequence[np.ndarray]
) -> dict[str, Any]:
    """Dice between the two networks' masks (the raw outputs at the contract's threshold) per
    label: {"mean", "min", "n"} over every input and label whose masks' union has at least
    MIN_UNION_PIXELS pixels, and how many smaller ones were left out ("skipped_small")."""
    name = contract.segmentation.name
    threshold = contract.segmentation.threshold
    logit = float(np.log(threshold / (1.0 - threshold)))
    scores: list[float] = []
    small = 0
    for x in inputs:
        feed = {contract.input.name: x[None].astype(np.float32)}
        a = float_session.run([name], feed)[0][0] > logit
        b = int8_session.run([name], feed)[0][0] > logit
        for label in range(a.shape[0]):
            union = int((a[label] | b[label]).sum())
            if 0 < union < MIN_UNION_PIXELS:
                small += 1
            elif union:
                scores.append(
                    2.0 * float((a[label] & b[label]).sum()) / (a[label].sum() + b[label].sum())
                )
    if not scores:
        raise ExportError("no held-out input has a mask to compare the two networks on")
    return {
        "mean": float(np.mean(scores)),
        "min": float(np.min(scores)),
        "n": len(scores),
        "skipped_small": small,
    }


def quantise_checked(
    src: Path,
    dst: Path,
    contract: ModelContract,
    calibration: Sequence[TrainingSlice],
    held_out: Sequence[TrainingSlice],
    *,
    min_agreement: float = MIN_AGREEMENT,
) -> dict[str, Any]:
    """Writes the int8 version of `src` to `dst` (KEEP_FLOAT's sub-networks in float, ranges
    from `calibration`) and compares the two networks' masks on `held_out`: what was kept in
    float, the calibration sources and the agreement. ExportError, with `dst` removed, when
    they agree less than `min_agreement` or no held-out input has a mask to compare."""
    kept = {prefix.rstrip("."): subnet_nodes(src, prefix) for prefix in KEEP_FLOAT}
    quantise_file(
        src,
        dst,
        network_inputs(contract, calibration),
        contract.input.name,
        keep_float=[node for nodes in kept.values() for node in nodes],
    )
    try:
        agreement = mask_agreement(
            create_session(src, providers=["CPUExecutionProvider"]),
            create_session(dst, providers=["CPUExecutionProvider"]),
            contract,
            network_inputs(contract, held_out),
        )
        if not agreement["mean"] >= min_agreement:
            raise ExportError(
                f"{src}: the int8 network's masks agree with the float network's at "
                f"{100 * agreement['mean']:.1f} % Dice (at least {100 * min_agreement:.1f} % "
                "needed); the float file is kept"
            )
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    return {
        "format": FORMAT,
        "kept_float_nodes": {name: len(nodes) for name, nodes in kept.items() if nodes},
        "calibration": [s.source for s in calibration],
        "mask_agreement": agreement,
    }


def quantise_model(
    directory: Path, stem: str, *, min_agreement: float = MIN_AGREEMENT
) -> dict[str, Any]:
    """Quantises <stem>.onnx in `directory` in place, re-evaluates and recalibrates it (its
    .metrics.json and .contract.json rewritten, the float file's sha256 kept in
    "quantisation"). Everything that can fail runs on copies in a staging folder beside the
    files, which change only by three renames at the end. ExportError, with the files left as
    they were, when the masks agree less than `min_agreement`.

    A file that is int8 already is quantised again from its checkpoint's float network (exported
    and checked against torch in the staging folder): how a shipped file picks up a change to
    the quantiser, such as the 7-bit weights above."""
    from inference.training.calibrate import calibrate_files
    from inference.training.pipeline import evaluate_files, write_atomic
    from inference.training.train import config_from_dict, load_checkpoint

    onnx_path = directory / f"{stem}.onnx"
    contract = load_contract(directory / f"{stem}.contract.json")
    network, state = load_checkpoint(directory / f"{stem}.pt")
    cfg = config_from_dict(state["train_config"])
    calibration = training_slices(cfg)
    held = real_slices(cfg.task, cfg.real_val) + phantom_slices(
        cfg.task, cfg.phantom_val_seeds, sagittal_offsets=(0,)
    )
    suffixes = (".onnx", ".metrics.json", ".contract.json")
    with tempfile.TemporaryDirectory(dir=directory, prefix=f".{stem}.int8.") as tmp:
        staged = Path(tmp) / stem
        int8_path = staged.with_name(f"{stem}.onnx")
        metrics = json.loads((directory / f"{stem}.metrics.json").read_text(encoding="utf-8"))
        float_path = onnx_path
        if is_quantised(onnx_path):
            float_path = staged.with_name(f"{stem}.float.onnx")
            export_and_verify(network, float_path, contract)
        checked = quantise_checked(
            float_path, int8_path, contract, calibration, held, min_agreement=min_agreement
        )
        sha = file_sha256(int8_path)
        metrics["quantisation"] = {
            **checked,
            "float_sha256": file_sha256(float_path),
            "float_size_bytes": float_path.stat().st_size,
        }
        metrics.update(
            sha256=sha,
            size_bytes=int8_path.stat().st_size,
            metrics=evaluate_files(int8_path, dataclasses.replace(contract, calibration=None), cfg),
        )
        contract_json = json.loads(
            (directory / f"{stem}.contract.json").read_text(encoding="utf-8")
        )
        contract_json["metadata"]["sha256"] = sha
        write_atomic(staged.with_name(f"{stem}.metrics.json"), json.dumps(metrics, indent=2) + "\n")
        write_atomic(
            staged.with_name(f"{stem}.contract.json"), json.dumps(contract_json, indent=2) + "\n"
        )
        calibrate_files(staged)
        for suffix in suffixes:
            staged.with_name(f"{stem}{suffix}").replace(directory / f"{stem}{suffix}")
    return dict(metrics["quantisation"])
