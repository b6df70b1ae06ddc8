"""Training loop of the sagittal and axial networks: Dice + BCE on the masks, MSE on Gaussian
heatmaps (seed 003), AdamW with warm-up and cosine decay, per-epoch held-out metrics."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812 - the usual torch alias

from inference.runtime.contract import (
    HeatmapSpec,
    InputSpec,
    ModelContract,
    Normalisation,
    Postprocessing,
    Preprocessing,
    SegmentationSpec,
    contract_to_dict,
)
from inference.training.augment import AugmentConfig, make_sample
from inference.training.counting import counting_contract
from inference.training.data import (
    SAGITTAL_MIN_CORD_SHARE,
    Task,
    TrainingSlice,
    phantom_slices,
    real_slices,
    synth_slice,
)
from inference.training.evaluate import TorchSession, evaluate_model
from inference.training.nets import (
    AXIAL_LABELS,
    KEYPOINT_NAMES,
    SAGITTAL_LABELS,
    NetConfig,
    UNet,
    build_net,
)

# The corners of a zoomed-in crop are read from a view at least this wide (contract field
# `keypoint_min_span_mm`): the span with the lowest median corner error on held-out synthetic
# crops of three vertebrae (scripts/choose_keypoint_span.py), inside the 120-240 mm the
# synthetic cervical fields of view span.
KEYPOINT_MIN_SPAN_MM = 200.0


@dataclass(frozen=True)
class TrainConfig:
    task: Task
    epochs: int = 10
    steps_per_epoch: int = 100
    batch_size: int = 8
    seed: int = 0
    input_size: tuple[int, int] = (256, 256)
    widths: tuple[int, ...] = (8, 16, 32, 64, 128)
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    heatmap_sigma: float = 6.0  # network pixels (1.5 heatmap pixels at stride 4)
    heatmap_level: int = 2
    heatmap_weight: float = 1.0
    heatmap_peak_weight: float = 9.0
    phantom_train_seeds: tuple[int, ...] = tuple(range(1000, 1040))
    phantom_val_seeds: tuple[int, ...] = tuple(range(9000, 9008))
    real_train: tuple[str, ...] = ()
    real_val: tuple[str, ...] = ()
    real_fraction: float = 0.3
    # Which real sagittal slices are trained on (data.real_slices): those whose cord is at
    # least this share of the volume's largest; the leave-one-volume-out recipe takes every
    # slice with a cord (lovo.RECIPES).
    real_min_cord_share: float = SAGITTAL_MIN_CORD_SHARE
    # Share of each batch drawn fresh from the domain-randomised generator (issue 14 §1,
    # fixtures.synth_render / synth_axial); 0 keeps the shipped recipe's pools only.
    synth_fraction: float = 0.0
    threads: int = 2
    augment: AugmentConfig = field(default_factory=AugmentConfig)


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """A TrainConfig from its JSON form (a checkpoint's `train_config`): lists back to tuples,
    the augmentation back to its dataclass."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in fields:
            raise ValueError(f"train_config: unknown field {key!r}")
        if key == "augment":
            augment: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()
            }
            values[key] = AugmentConfig(**augment)
        else:
            values[key] = tuple(raw) if isinstance(raw, list) else raw
    return TrainConfig(**values)


def default_config(task: Task, **overrides: Any) -> TrainConfig:
    """The shipped models' recipe; `overrides` change any field."""
    if task == "sagittal":
        base = TrainConfig(
            task=task,
            input_size=(256, 256),
            real_train=("t1",),
            real_val=("t2",),
            # Field-of-view crops usually cut corners off, which leaves no heatmap to learn.
            augment=AugmentConfig(fov_crop_p=0.3),
        )
    else:
        base = TrainConfig(
            task=task,
            input_size=(160, 160),
            real_train=("t2", "t1", "mt"),
            real_val=("t2s",),
            augment=AugmentConfig(flip_lr=True, rotation_deg=20.0, fov_min_mm=22.0),
        )
    return dataclasses.replace(base, **overrides)


def default_contract(config: TrainConfig) -> ModelContract:
    """The contract of a network trained with `config` and exported by `export_onnx`."""
    h, w = config.input_size
    if config.task == "sagittal":
        return ModelContract(
            task="sagittal",
            input=InputSpec(name="image", height=h, width=w, channels=1),
            segmentation=SegmentationSpec(
                name="segmentation", labels=SAGITTAL_LABELS, activation="sigmoid"
            ),
            normalisation=Normalisation(kind="percentile", low=0.5, high=99.5),
            preprocessing=Preprocessing(
                roi="foreground_box",
                foreground_threshold=50.0,
                keep_aspect=True,
                keypoint_min_span_mm=KEYPOINT_MIN_SPAN_MM,
            ),
            heatmap=HeatmapSpec(
                name="heatmaps", keypoints=KEYPOINT_NAMES, stride=2**config.heatmap_level
            ),
            # Corners decoded together (corner_chain.py): on held-out synthetic images and on
            # a leave-one-volume-out fold's real crop it put corners one body off back on
            # their own body; where the highest peaks already make a spine it changes nothing.
            postprocessing=Postprocessing(
                polygon_tolerance_px=0.75,
                extent="c2c3_to_c7t1",
                lateral_extent_mm=SAGITTAL_LATERAL_EXTENT_MM,
                corners="chain",
            ),
        )
    return ModelContract(
        task="axial",
        input=InputSpec(name="image", height=h, width=w, channels=1),
        segmentation=SegmentationSpec(
            name="segmentation", labels=AXIAL_LABELS, activation="sigmoid"
        ),
        normalisation=Normalisation(kind="percentile", low=0.5, high=99.5),
        preprocessing=Preprocessing(roi="centre_crop", foreground_threshold=50.0, crop_mm=80.0),
        # Each slice with its mirror image, and one component per slice along the series
        # (components.py): on the leave-one-volume-out folds the cord Dice went from 90.6 to
        # 91.7 % (T1 86.1 to 88.9: one slice's largest component lay on a vertebral body).
        postprocessing=Postprocessing(
            polygon_tolerance_px=0.5, components="series", average_flip_lr=True
        ),
    )


# Half-widths (mm) about the mid-sagittal slice beyond which a sagittal series keeps no cord or
# canal (runtime/lateral.py). From anatomy, not fitted: the adult cervical cord is 10-14 mm
# wide left to right and the dural sac 15-20 mm; each half plus 2 mm for where the midline is
# found.
SAGITTAL_LATERAL_EXTENT_MM = {"cord": 8.0, "canal": 12.0}


def net_config(config: TrainConfig) -> NetConfig:
    labels = SAGITTAL_LABELS if config.task == "sagittal" else AXIAL_LABELS
    keypoints = len(KEYPOINT_NAMES) if config.task == "sagittal" else 0
    return NetConfig(
        seg_channels=len(labels),
        heatmap_channels=keypoints,
        widths=config.widths,
        heatmap_level=config.heatmap_level,
    )


@dataclass(frozen=True)
class TrainProgress:
    epoch: int  # 1-based
    epochs: int
    step: int  # 1-based within the epoch
    steps: int
    loss: float
    metrics: dict[str, Any] | None = None  # set on the last step of an epoch


@dataclass
class TrainResult:
    model: UNet  # eval mode, on the CPU
    config: TrainConfig
    contract: ModelContract
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    seconds: float
    checkpoint: Path | None
    data: dict[str, list[str]]  # the training and held-out slice sources
    device: str = "cpu"  # where it trained


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def losses(
    outputs: tuple[torch.Tensor, ...], batch: dict[str, torch.Tensor], config: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """(segmentation loss, heatmap loss): BCE + soft Dice over the known pixels of each label,
    and a weighted, normalised MSE of the heatmaps."""
    logits, target, weight = outputs[0], batch["masks"], batch["mask_weight"]
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    seg = (bce * weight).sum() / weight.sum().clamp(min=1.0)
    prob = torch.sigmoid(logits)
    inter = (prob * target * weight).sum(dim=(2, 3))
    denom = ((prob + target) * weight).sum(dim=(2, 3))
    known = weight.sum(dim=(2, 3)) > 0
    soft_dice = 1.0 - (2 * inter + 1.0) / (denom + 1.0)
    if known.any():
        seg = seg + soft_dice[known].mean()
    heat_loss = torch.zeros((), device=logits.device)
    if len(outputs) > 1:
        # MSE on the Gaussian heatmaps (seed 003), each pixel weighted 1 + peak_weight * target
        # so that the peaks are not drowned by the background, and each channel normalised by
        # its target's weighted energy: a flat zero prediction scores 1 per keypoint.
        hw = batch["heatmap_weight"]
        target_heat = batch["heatmaps"]
        pixel_weight = 1.0 + config.heatmap_peak_weight * target_heat
        # The keypoints' channels: the counting network's (training/counting.py) has its own.
        heat = outputs[1][:, : target_heat.shape[1]]
        error = (pixel_weight * (heat - target_heat) ** 2).sum(dim=(2, 3))
        energy = (pixel_weight * target_heat**2).sum(dim=(2, 3)).clamp(min=1e-6)
        per_sample = (error / energy).mean(dim=1)
        heat_loss = (per_sample * hw).sum() / hw.sum().clamp(min=1.0) * config.heatmap_weight
    return seg, heat_loss


def make_batch(
    pools: tuple[Sequence[TrainingSlice], Sequence[TrainingSlice]],
    config: TrainConfig,
    contract: ModelContract,
    rng: np.random.Generator,
    device: torch.device,
) -> dict[str, torch.Tensor]:
    """One augmented batch: each item generated by `synth_slice` with probability
    `synth_fraction`, else from the real pool with probability `real_fraction`, else from the
    phantom pool."""
    labels = SAGITTAL_LABELS if config.task == "sagittal" else AXIAL_LABELS
    keypoints = len(KEYPOINT_NAMES) if config.task == "sagittal" else 0
    phantom_pool, real_pool = pools
    samples = []
    for _ in range(config.batch_size):
        if config.synth_fraction > 0 and rng.random() < config.synth_fraction:
            item = synth_slice(int(rng.integers(2**31)), config.task)
        else:
            use_real = bool(real_pool) and (not phantom_pool or rng.random() < config.real_fraction)
            pool = real_pool if use_real else phantom_pool
            item = pool[int(rng.integers(len(pool)))]
        samples.append(
            make_sample(
                item,
                contract,
                rng,
                labels=labels,
                config=config.augment,
                heatmap_sigma=config.heatmap_sigma,
                keypoint_count=keypoints,
                heatmap_stride=2**config.heatmap_level,
            )
        )
    return {
        "image": torch.from_numpy(np.stack([s.image for s in samples])).to(device),
        "masks": torch.from_numpy(np.stack([s.masks for s in samples])).to(device),
        "mask_weight": torch.from_numpy(np.stack([s.mask_weight for s in samples])).to(device),
        "heatmaps": torch.from_numpy(np.stack([s.heatmaps for s in samples])).to(device),
        "heatmap_weight": torch.tensor([s.heatmap_weight for s in samples], device=device),
    }


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def save_checkpoint(
    path: Path,
    model: UNet,
    config: TrainConfig,
    contract: ModelContract,
    history: list[dict[str, Any]],
) -> None:
    tmp = path.with_suffix(".tmp")
    state = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "net_config": dataclasses.asdict(model.config),
        "train_config": json.loads(json.dumps(dataclasses.asdict(config), default=list)),
        "contract": contract_to_dict(contract),
        "history": history,
    }
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> tuple[UNet, dict[str, Any]]:
    """The model (eval mode, CPU) and the checkpoint's other fields."""
    state = torch.load(str(path), map_location="cpu", weights_only=False)
    raw = state["net_config"]
    model = build_net(NetConfig(**{**raw, "widths": tuple(raw["widths"])}))
    model.load_state_dict(state["state_dict"])
    return model.eval(), state


@dataclass
class _Run:
    """What one training run carries from step to step."""

    cfg: TrainConfig
    contract: ModelContract
    model: UNet
    optimiser: torch.optim.Optimizer
    device: torch.device
    memory_format: torch.memory_format
    pools: tuple[list[TrainingSlice], list[TrainingSlice]]
    held_out_real: list[TrainingSlice]
    held_out_phantoms: list[TrainingSlice]
    out_path: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)
    # Replaces the held-out evaluation (fine-tuning evaluates on the tune split's gold).
    evaluate: Callable[[TorchSession, ModelContract], dict[str, Any]] | None = None


def _start_model(cfg: TrainConfig, init_from: str | Path | None, dev: torch.device) -> UNet:
    """A fresh network, or the checkpoint's (same architecture), on the device."""
    model = build_net(net_config(cfg))
    if init_from is not None:
        start, _ = load_checkpoint(init_from)
        # A counting network (training/counting.py) comes along: fine-tuning leaves it as is.
        if dataclasses.replace(start.config, count_channels=0) != model.config:
            raise ValueError(
                f"{init_from}: architecture {start.config} differs from {model.config}"
            )
        model = start
    return model.to(dev)


def _train_step(run: _Run, epoch: int, step: int) -> tuple[float, float, float]:
    """One optimiser step; the batch's (loss, segmentation loss, heatmap loss)."""
    cfg = run.cfg
    total = cfg.epochs * cfg.steps_per_epoch
    global_step = epoch * cfg.steps_per_epoch + step
    for group in run.optimiser.param_groups:
        group["lr"] = cfg.lr * _lr_factor(global_step, total, cfg.warmup_steps)
    rng = np.random.default_rng([cfg.seed, epoch, step])
    batch = make_batch(run.pools, cfg, run.contract, rng, run.device)
    batch["image"] = batch["image"].contiguous(memory_format=run.memory_format)
    seg_loss, heat_loss = losses(run.model(batch["image"]), batch, cfg)
    loss = seg_loss + heat_loss
    run.optimiser.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), 5.0)
    run.optimiser.step()
    return loss.item(), seg_loss.item(), heat_loss.item()


def _end_epoch(run: _Run, epoch: int, sums: dict[str, float], epoch_start: float) -> dict[str, Any]:
    """Held-out metrics after the epoch's last step, its history row and the checkpoint."""
    run.model.eval()
    session = TorchSession(run.model, run.contract, str(run.device))
    if run.evaluate is not None:
        metrics = run.evaluate(session, run.contract)
    else:
        metrics = evaluate_model(
            session, run.contract, real=run.held_out_real, phantoms=run.held_out_phantoms
        )
    n = run.cfg.steps_per_epoch
    run.history.append(
        {
            "epoch": epoch + 1,
            "loss": sums["loss"] / n,
            "seg_loss": sums["seg"] / n,
            "heatmap_loss": sums["heatmap"] / n,
            "seconds": time.perf_counter() - epoch_start,
            "held_out": metrics,
        }
    )
    if run.out_path is not None:
        save_checkpoint(
            run.out_path / "checkpoint.pt", run.model, run.cfg, run.contract, run.history
        )
    return metrics


def _train_epoch(
    run: _Run, epoch: int, progress: Callable[[TrainProgress], None] | None
) -> dict[str, Any] | None:
    """Train one epoch; its held-out metrics (None for an epoch of no steps)."""
    run.model.train()
    if run.model.counter is not None:  # trained on its own (training/counting.py): kept as is
        run.model.counter.eval()
    epoch_start = time.perf_counter()
    sums = {"loss": 0.0, "seg": 0.0, "heatmap": 0.0}
    metrics: dict[str, Any] | None = None
    for step in range(run.cfg.steps_per_epoch):
        loss, seg_loss, heat_loss = _train_step(run, epoch, step)
        sums["loss"] += loss
        sums["seg"] += seg_loss
        sums["heatmap"] += heat_loss
        last = step == run.cfg.steps_per_epoch - 1
        if last:
            metrics = _end_epoch(run, epoch, sums, epoch_start)
        if progress is not None:
            progress(
                TrainProgress(
                    epoch=epoch + 1,
                    epochs=run.cfg.epochs,
                    step=step + 1,
                    steps=run.cfg.steps_per_epoch,
                    loss=loss,
                    metrics=run.history[-1] if last else None,
                )
            )
    return metrics


def train(
    *,
    task: Task,
    epochs: int,
    steps_per_epoch: int,
    batch_size: int,
    seed: int,
    device: str = "auto",
    out_dir: str | Path | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
    config: TrainConfig | None = None,
    extra_train: Sequence[TrainingSlice] = (),
    init_from: str | Path | None = None,
    evaluate: Callable[[TorchSession, ModelContract], dict[str, Any]] | None = None,
    **overrides: Any,
) -> TrainResult:
    """Trains a network, from scratch or from the checkpoint `init_from` (fine-tuning).
    `config` (or `default_config(task)`) is the recipe; the keyword arguments override it.
    `extra_train` adds annotated slices (accepted corrections, say) to the real pool.
    Held-out metrics are computed after every epoch (by `evaluate`, when given)."""
    base = config or default_config(task)
    cfg = dataclasses.replace(
        base,
        task=task,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        batch_size=batch_size,
        seed=seed,
        **overrides,
    )
    started = time.perf_counter()
    torch.manual_seed(cfg.seed)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    dev = resolve_device(device)
    contract = default_contract(cfg)
    offsets = (-1, 0, 1)
    pools = (
        phantom_slices(task, cfg.phantom_train_seeds, sagittal_offsets=offsets),
        [*real_slices(task, cfg.real_train, min_cord_share=cfg.real_min_cord_share), *extra_train],
    )
    held_out_phantoms = phantom_slices(task, cfg.phantom_val_seeds, sagittal_offsets=(0,))
    held_out_real = real_slices(task, cfg.real_val)
    model = _start_model(cfg, init_from, dev)
    if model.counter is not None:
        model.counter.requires_grad_(False)
    if model.config.count_channels and contract.heatmap is not None:
        contract = counting_contract(contract)
    # channels-last convolutions train about twice as fast on the CPU (oneDNN).
    memory_format = torch.channels_last if dev.type == "cpu" else torch.contiguous_format
    model = model.to(memory_format=memory_format)  # type: ignore[call-overload]
    out_path = Path(out_dir) if out_dir is not None else None
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
    run = _Run(
        cfg=cfg,
        contract=contract,
        model=model,
        optimiser=torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay),
        device=dev,
        memory_format=memory_format,
        pools=pools,
        held_out_real=held_out_real,
        held_out_phantoms=held_out_phantoms,
        out_path=out_path,
        evaluate=evaluate,
    )
    metrics: dict[str, Any] = {}
    for epoch in range(cfg.epochs):
        metrics = _train_epoch(run, epoch, progress) or metrics
    model = run.model
    history = run.history
    model = model.cpu().eval()
    return TrainResult(
        model=model,
        config=cfg,
        contract=contract,
        history=history,
        metrics=metrics,
        seconds=time.perf_counter() - started,
        checkpoint=(out_path / "checkpoint.pt") if out_path is not None else None,
        device=str(dev),
        data={
            "train": list(dict.fromkeys(s.source for pool in pools for s in pool)),
            "held_out": [s.source for s in (*held_out_real, *held_out_phantoms)],
        },
    )
