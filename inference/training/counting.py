"""The counting network (issue 14 §5): a heatmap of the C2 dens tip and one with a peak at
every vertebral body's centre, for counting levels from C2 at run time (runtime/counting.py).

It is trained after the rest of the sagittal network, on domain-randomised synthetic images
only (fixtures.synth_render: every body and the dens drawn, in cervical and skull-base-to-
thorax fields of view; no real volume has these labels), with the rest of the network frozen:
the segmentation and the corners, and every score measured on them, stay exactly as they were.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from inference.runtime.contract import COUNTING_CHANNELS, ModelContract
from inference.training.augment import AugmentConfig, gaussian_heatmaps, make_sample
from inference.training.data import TrainingSlice
from inference.training.nets import UNet, build_net

# One heatmap pixel at stride 4: the peaks of neighbouring bodies (15-20 mm apart, 3-5 heatmap
# pixels on a skull-base-to-thorax view) stay apart, as in CenterNet's object centres. (Body
# masks instead merged across the discs on such views: 264 of 1491 bodies found.)
COUNT_SIGMA = 4.0  # network pixels
PEAK_WEIGHT = 9.0
# Views about as wide as the run time's keypoint view (preprocess.keypoint_view widens small
# regions of interest to 200 mm): counting needs the dens and several bodies in sight.
COUNT_AUGMENT = AugmentConfig(fov_crop_p=0.25, fov_min_mm=120.0)
HELD_OUT_SEEDS: tuple[int, ...] = tuple(range(7_000_000, 7_000_048))


@dataclass(frozen=True)
class CountConfig:
    steps: int = 3000
    batch_size: int = 8
    # Synthetic images rendered and augmented once, then drawn at random: rendering costs
    # about five times a training step.
    pool: int = 2400
    lr: float = 5e-3
    warmup_steps: int = 30
    seed: int = 2024
    threads: int = 2


def body_centres(bodies: dict[str, np.ndarray]) -> np.ndarray:
    """(n, 2) centres, each body's four corners' mean, labelme pixels."""
    return np.array([np.asarray(corners).mean(axis=0) for corners in bodies.values()])


def counting_targets(
    dens_tip: np.ndarray, centres: np.ndarray, shape: tuple[int, int], stride: int
) -> np.ndarray:
    """(2, h, w) targets in COUNTING_CHANNELS order from network-grid points: a Gaussian at
    the dens tip and at every body centre inside the grid (the bodies' channel their maximum),
    zero elsewhere: a dens out of sight is known to be absent."""
    h, w = shape[0] // stride, shape[1] // stride
    grid = np.vstack([np.asarray(dens_tip, dtype=np.float64)[None], centres]) / stride
    inside = (grid[:, 0] >= 0) & (grid[:, 0] < w) & (grid[:, 1] >= 0) & (grid[:, 1] < h)
    target = np.zeros((2, h, w), np.float32)
    if inside[0]:
        target[0] = gaussian_heatmaps(grid[:1], (h, w), COUNT_SIGMA / stride)[0]
    bodies = grid[1:][inside[1:]]
    if len(bodies):
        target[1] = gaussian_heatmaps(bodies, (h, w), COUNT_SIGMA / stride).max(axis=0)
    order = [("dens_tip", "bodies").index(name) for name in COUNTING_CHANNELS]
    return target[order]


def counting_sample(
    seed: int, contract: ModelContract, rng: np.random.Generator, stride: int
) -> tuple[np.ndarray, np.ndarray]:
    """(network input, counting targets) of the synthetic sagittal image `seed`, augmented."""
    from fixtures.synth_render import synth_sagittal

    item = synth_sagittal(seed)
    centres = body_centres(item.bodies)
    slice_ = TrainingSlice(
        image=item.image,
        spacing=item.spacing,
        masks={"cord": item.cord},
        keypoints=np.vstack([np.asarray(item.dens_tip, dtype=np.float64)[None], centres]),
        source=f"synth:{seed}:sagittal",
    )
    sample = make_sample(slice_, contract, rng, labels=(), config=COUNT_AUGMENT)
    assert sample.points is not None
    shape = (contract.input.height, contract.input.width)
    return sample.image, counting_targets(sample.points[0], sample.points[1:], shape, stride)


def _one_peak_energy(stride: int) -> float:
    """The weighted energy of one Gaussian target: the loss's floor of normalisation, so that
    a channel with no peak (no dens in sight) still costs its false positives."""
    size = 16
    g = gaussian_heatmaps(np.array([[size / 2, size / 2]]), (size, size), COUNT_SIGMA / stride)[0]
    return float(((1 + PEAK_WEIGHT * g) * g * g).sum())


def counting_loss(pred: torch.Tensor, target: torch.Tensor, floor: float) -> torch.Tensor:
    """Weighted MSE per channel (peaks weighted 1 + PEAK_WEIGHT), normalised by the target's
    weighted energy (at least one peak's), as the keypoints' heatmaps are (train.losses)."""
    weight = 1.0 + PEAK_WEIGHT * target
    error = (weight * (pred - target) ** 2).sum(dim=(2, 3))
    energy = (weight * target * target).sum(dim=(2, 3)).clamp(min=floor)
    return (error / energy).mean()


def with_counter(model: UNet) -> UNet:
    """A copy of `model` with a fresh counting network, everything else frozen (eval mode, so
    that its batch normalisation keeps its statistics)."""
    if model.config.count_channels:
        raise ValueError("the network has a counting network already")
    net = build_net(dataclasses.replace(model.config, count_channels=len(COUNTING_CHANNELS)))
    missing, unexpected = net.load_state_dict(model.state_dict(), strict=False)
    if unexpected or any(not key.startswith("counter.") for key in missing):
        raise ValueError(f"not a counting network's difference: {missing} {unexpected}")
    for name, parameter in net.named_parameters():
        parameter.requires_grad_(name.startswith("counter."))
    net.eval()
    assert net.counter is not None
    net.counter.train()  # its own batch normalisation learns; the rest keeps its statistics
    return net


def counting_contract(contract: ModelContract) -> ModelContract:
    if contract.heatmap is None:
        raise ValueError("a counting network needs a heatmap output")
    heatmap = dataclasses.replace(contract.heatmap, counting=COUNTING_CHANNELS)
    # Corners are drawn only where their level is counted from C2 (runtime.counting.unverified).
    post = dataclasses.replace(contract.postprocessing, corner_levels="counted")
    return dataclasses.replace(contract, heatmap=heatmap, postprocessing=post)


def _training_seed(rng: np.random.Generator) -> int:
    """A random synthetic seed, never one of HELD_OUT_SEEDS."""
    while (seed := int(rng.integers(2**31))) in HELD_OUT_SEEDS:
        pass
    return seed


def _lr(config: CountConfig, step: int) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_counting(
    model: UNet,
    contract: ModelContract,
    config: CountConfig = CountConfig(),
    *,
    log: Callable[[str], None] | None = None,
) -> tuple[UNet, ModelContract, dict[str, Any]]:
    """(network with its counting network, its contract, training record)."""
    started = time.perf_counter()
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    net = with_counter(model)
    head = net.counter
    assert head is not None
    stride = net.config.heatmap_stride
    floor = _one_peak_energy(stride)
    optimiser = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=1e-4)
    rng = np.random.default_rng(config.seed)
    pairs = [
        counting_sample(_training_seed(rng), contract, rng, stride) for _ in range(config.pool)
    ]
    images = np.stack([image for image, _ in pairs])
    targets = np.stack([target for _, target in pairs])
    del pairs
    if log is not None:
        seconds = time.perf_counter() - started
        log(f"counting network: {config.pool} synthetic samples ({seconds:.0f} s)")
    losses: list[float] = []
    for step in range(config.steps):
        for group in optimiser.param_groups:
            group["lr"] = _lr(config, step)
        pick = rng.integers(config.pool, size=config.batch_size)
        batch = torch.from_numpy(images[pick])
        loss = counting_loss(head(batch), torch.from_numpy(targets[pick]), floor)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        losses.append(float(loss.detach()))
        if log is not None and (step + 1) % 250 == 0:
            log(
                f"counting network step {step + 1}/{config.steps} loss {np.mean(losses[-250:]):.4f}"
            )
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    net.eval()
    record = {
        "config": dataclasses.asdict(config),
        "sigma_px": COUNT_SIGMA,
        "final_loss": float(np.mean(losses[-250:])) if losses else None,
        "seconds": round(time.perf_counter() - started, 1),
        "data": f"{config.pool} synthetic sagittal images (fixtures.synth_render), no real one",
    }
    return net, counting_contract(contract), record


def synthetic_count_items(seeds: Sequence[int] = HELD_OUT_SEEDS) -> list[Any]:
    """The held-out synthetic images the count is scored on (never trained on: training
    seeds come from the generator above, these from a fixed range)."""
    from fixtures.synth_render import synth_sagittal

    return [synth_sagittal(seed) for seed in seeds]
