"""Small U-Nets for CPU inference: sagittal (cord, canal, 20 corner heatmaps), axial (cord, canal).

Input sizes must be multiples of ``2 ** (len(widths) - 1)`` (16 for the default four poolings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

SAGITTAL_LABELS: tuple[str, ...] = ("cord", "canal")
AXIAL_LABELS: tuple[str, ...] = ("cord", "canal")
KEYPOINT_NAMES: tuple[str, ...] = tuple(
    f"C{level}_{corner}" for level in range(3, 8) for corner in ("AS", "AI", "PS", "PI")
)


@dataclass(frozen=True)
class NetConfig:
    """Architecture of one network; stored with checkpoints so they can be rebuilt."""

    seg_channels: int
    heatmap_channels: int = 0
    widths: tuple[int, ...] = (8, 16, 32, 64, 128)
    in_channels: int = 1
    # The heatmap head reads the decoder at this level: stride 2**level (HRNet uses 4). The
    # full-resolution level is too narrow (8 channels) to tell 20 keypoints apart.
    heatmap_level: int = 2
    # Channels of the counting network (issue 14 §5: the dens tip, the vertebral bodies), a
    # separate small network whose output is appended to the heatmaps'. Trained after the rest,
    # on synthetic images only, which leaves the rest as it was (training/counting.py).
    count_channels: int = 0

    @property
    def heatmap_stride(self) -> int:
        return int(2**self.heatmap_level)

    @property
    def size_multiple(self) -> int:
        return int(2 ** (len(self.widths) - 1))


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def _encoder_blocks(cin: int, widths: Sequence[int]) -> nn.ModuleList:
    """One double-convolution block per width, each taking the previous one's channels."""
    blocks = nn.ModuleList()
    for width in widths:
        blocks.append(_block(cin, width))
        cin = width
    return blocks


def _decoder_blocks(widths: Sequence[int], last_level: int) -> tuple[nn.ModuleList, nn.ModuleList]:
    """(upsamplings, blocks) from the coarsest level back up to `last_level`, each block taking
    the upsampled features and the encoder's skip at its level."""
    ups, decoders = nn.ModuleList(), nn.ModuleList()
    for level in range(len(widths) - 2, last_level - 1, -1):
        ups.append(nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2))
        decoders.append(_block(2 * widths[level], widths[level]))
    return ups, decoders


def _encode(
    x: torch.Tensor, encoders: nn.ModuleList, pool: nn.Module, context: nn.Module
) -> list[torch.Tensor]:
    """Each encoder level's output, finest first; the coarsest with the global context added."""
    skips: list[torch.Tensor] = []
    for index, encoder in enumerate(encoders):
        x = encoder(pool(x) if index > 0 else x)
        skips.append(x)
    skips[-1] = context(skips[-1])
    return skips


class GlobalContext(nn.Module):
    """Adds a globally pooled feature to every position (as UperNet's pyramid pooling does at
    its coarsest bin): the vertebra identity (C3 versus C4) needs context beyond the receptive
    field of the convolutions."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(channels, channels, 1), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled: torch.Tensor = self.proj(torch.mean(x, dim=(2, 3), keepdim=True))
        return x + pooled


class UNet(nn.Module):
    """U-Net with a segmentation head (logits) and an optional heatmap head (linear)."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        widths: Sequence[int] = config.widths
        self.encoders = _encoder_blocks(config.in_channels, widths)
        self.pool = nn.MaxPool2d(2)
        self.context = GlobalContext(widths[-1])
        self.ups, self.decoders = _decoder_blocks(widths, 0)
        self.seg_head = nn.Conv2d(widths[0], config.seg_channels, 1)
        self.heatmap_head: nn.Module | None = None
        if config.heatmap_channels > 0:
            if not 0 <= config.heatmap_level < len(widths) - 1:
                raise ValueError(f"heatmap_level must be a decoder level, 0..{len(widths) - 2}")
            head_width = widths[config.heatmap_level]
            last = nn.Conv2d(head_width, config.heatmap_channels, 1)
            # Heatmaps start flat at zero, so the first MSE steps do not swamp the masks' loss.
            nn.init.zeros_(last.weight)
            if last.bias is not None:
                nn.init.zeros_(last.bias)
            self.heatmap_head = nn.Sequential(
                nn.Conv2d(head_width, head_width, 3, padding=1), nn.ReLU(inplace=True), last
            )
        self.counter: CountNet | None = None
        if config.count_channels > 0:
            if config.heatmap_channels == 0:
                raise ValueError("count_channels needs a heatmap head")
            self.counter = CountNet(config.count_channels, config.heatmap_stride)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        image = x
        skips = _encode(x, self.encoders, self.pool, self.context)
        x = skips.pop()
        heat: torch.Tensor | None = None
        level = len(self.decoders)
        for up, decoder in zip(self.ups, self.decoders, strict=True):
            level -= 1
            x = up(x)
            x = decoder(torch.cat([x, skips.pop()], dim=1))
            if self.heatmap_head is not None and level == self.config.heatmap_level:
                heat = self.heatmap_head(x)
                if self.counter is not None:
                    heat = torch.cat([heat, self.counter(image)], dim=1)
        seg = self.seg_head(x)
        if heat is None:
            return (seg,)
        return seg, heat


class CountNet(nn.Module):
    """The counting network: a small U-Net on the input at half resolution (counting needs the
    whole spine in view, not its detail), its output on the heatmaps' grid (stride `stride` of
    the input). About a quarter of the main network's cost."""

    def __init__(self, channels: int, stride: int, widths: Sequence[int] = (8, 16, 32, 64)):
        super().__init__()
        if stride < 2:
            raise ValueError("the counting network's output stride must be 2 or more")
        self.down = nn.AvgPool2d(2)
        self.encoders = _encoder_blocks(1, widths)
        self.pool = nn.MaxPool2d(2)
        self.context = GlobalContext(widths[-1])
        # Decoder levels back up to the output's: stride / 2 of the half-resolution input.
        out_level = int(math.log2(stride)) - 1
        self.ups, self.decoders = _decoder_blocks(widths, out_level)
        self.head = nn.Conv2d(widths[out_level], channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = _encode(self.down(x[:, :1]), self.encoders, self.pool, self.context)
        x = skips.pop()
        for up, decoder in zip(self.ups, self.decoders, strict=True):
            x = decoder(torch.cat([up(x), skips.pop()], dim=1))
        out: torch.Tensor = self.head(x)
        return out


def build_net(config: NetConfig) -> UNet:
    return UNet(config)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
