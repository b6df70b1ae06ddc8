"""The model input/output contract (see CONTRACT.md): typed, validated field by field, and
checked against the ONNX graph before a model is registered."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from inference.runtime.calibration import IsotonicMap

CONTRACT_FORMAT = "spinelabel-model-contract"
CONTRACT_VERSION = 1
TASKS = ("sagittal", "axial")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

Task = Literal["sagittal", "axial"]
NormKind = Literal["percentile", "zscore", "minmax"]
RoiKind = Literal["foreground_box", "centre_crop"]
SegActivation = Literal["sigmoid", "softmax", "none"]
HeatmapActivation = Literal["none", "sigmoid"]


class ModelError(ValueError):
    """Base of every error about a model file or its contract."""


class ContractError(ModelError):
    """A contract is malformed or does not match its model; `errors` lists every problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid model contract: " + "; ".join(self.errors))


class ModelFileError(ModelError):
    """The model file is missing, unreadable or not a valid ONNX model."""


@dataclass(frozen=True)
class InputSpec:
    name: str
    height: int
    width: int
    channels: int = 1


@dataclass(frozen=True)
class Normalisation:
    """percentile: (x - P_low) / (P_high - P_low) clipped to [0, 1]; minmax: the same with the
    image minimum and maximum; zscore: (x - mean) / std of the image. Then (v - mean) / std
    with the `mean` and `std` fields (0 and 1 by default), for networks pretrained that way."""

    kind: NormKind = "percentile"
    low: float = 0.5
    high: float = 99.5
    mean: float = 0.0
    std: float = 1.0


@dataclass(frozen=True)
class Preprocessing:
    """foreground_box: the bounding box of the tissue (8-bit rendering > threshold) is the
    region of interest (seed 003, sagittal); centre_crop: a square of `crop_mm` (or `crop_px`)
    around the centre of that box (seed 003, axial, 200 px)."""

    roi: RoiKind = "foreground_box"
    foreground_threshold: float = 50.0
    keep_aspect: bool = False
    crop_mm: float | None = None
    crop_px: int | None = None
    # Keypoints are read from a second view of the slice whose box spans at least this many
    # mm when the region of interest is smaller (a zoomed-in crop): a heatmap network sees
    # the vertebrae at the scale it was trained on. None: one view for everything.
    keypoint_min_span_mm: float | None = None


@dataclass(frozen=True)
class SegmentationSpec:
    name: str
    labels: tuple[str, ...]
    activation: SegActivation = "sigmoid"
    stride: int = 1
    threshold: float = 0.5
    # label -> labels it contains (the dural sac contains the cord): merged after activation.
    contains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return len(self.labels) + (1 if self.activation == "softmax" else 0)


@dataclass(frozen=True)
class HeatmapSpec:
    """`counting`: extra channels after the keypoints' for counting vertebrae from C2 (issue 14
    §5, runtime/counting.py), never drawn: "dens_tip" a heatmap of the tip of the C2 dens,
    "bodies" one with a peak at every vertebral body's centre, unnamed."""

    name: str
    keypoints: tuple[str, ...]
    stride: int = 1
    activation: HeatmapActivation = "none"
    counting: tuple[str, ...] = ()

    @property
    def channels(self) -> int:
        return len(self.keypoints) + len(self.counting)


COUNTING_CHANNELS: tuple[str, ...] = ("dens_tip", "bodies")
EXTENT_KEYPOINTS = tuple(f"C{v}_{c}" for v in (3, 4, 6, 7) for c in ("AS", "AI", "PS", "PI"))
CHAIN_KEYPOINTS = tuple(f"C{v}_{c}" for v in range(3, 8) for c in ("AS", "AI", "PS", "PI"))


@dataclass(frozen=True)
class Postprocessing:
    """`extent` "c2c3_to_c7t1" cuts sagittal masks to seed 003's labelling range (C2/C3 to
    C7/T1 disc centres, estimated from the corner keypoints) when every corner it needs has
    at least `extent_min_confidence`; "full" keeps whatever the model segments.
    `components` "largest" keeps each slice's largest component of a structure; "series"
    chooses one along the slices predicted together, without jumps (components.py).
    `average_flip_lr` runs each slice and its left-right mirror image and averages the raw
    segmentation outputs (the mirror's flipped back): for segmentation-only models, since a
    mirrored heatmap would swap sides.
    `lateral_extent_mm` (sagittal models), label -> half-width in mm: the structure is kept
    only on slices of a series within that distance of its mid-sagittal slice (lateral.py),
    since a network that reads one slice at a time draws a cord beside the spine too.
    `slice_pooling_mm` (0: off): the Gaussian width along a series with which each slice's
    probabilities are pooled with its neighbours' before the masks (pooling.py).
    `corners` "peak" decodes each corner at its heatmap's highest peak; "chain" chooses among
    each heatmap's few highest peaks the combination that makes a spine (corner_chain.py).
    `corner_levels` "counted" (models with counting channels) draws a corner only where its
    level was counted from C2 and withholds the others as suggestions (counting.unverified);
    "any" draws whatever the other checks and the calibration let through."""

    polygon_tolerance_px: float = 0.75
    min_component_px: int = 4
    extent: Literal["full", "c2c3_to_c7t1"] = "full"
    extent_min_confidence: float = 0.3
    components: Literal["largest", "series"] = "largest"
    average_flip_lr: bool = False
    lateral_extent_mm: Mapping[str, float] = field(default_factory=dict)
    slice_pooling_mm: float = 0.0
    corners: Literal["peak", "chain"] = "peak"
    corner_levels: Literal["any", "counted"] = "any"


@dataclass(frozen=True)
class CalibrationMap:
    """Raw score -> P(right), and the calibrated probability under which a pre-label of this
    kind is withheld as a suggestion."""

    map: IsotonicMap
    threshold: float


@dataclass(frozen=True)
class Calibration:
    """Per kind (None: the model has no such output). Right means a keypoint within
    `keypoint_radius_mm` of the reference, a structure with a Dice of at least
    `structure_min_dice` against the reference mask."""

    keypoint: CalibrationMap | None = None
    structure: CalibrationMap | None = None
    keypoint_radius_mm: float = 4.0
    structure_min_dice: float = 0.8


@dataclass(frozen=True)
class ModelContract:
    task: Task
    input: InputSpec
    segmentation: SegmentationSpec
    normalisation: Normalisation = field(default_factory=Normalisation)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    heatmap: HeatmapSpec | None = None
    postprocessing: Postprocessing = field(default_factory=Postprocessing)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # None (older contracts): confidences are raw and nothing is withheld.
    calibration: Calibration | None = None


class _Reader:
    """Reads typed fields from nested dicts, collecting every error with its path."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def obj(self, data: object, path: str, known: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.errors.append(f"{path}: must be an object")
            return {}
        for key in sorted(set(data) - known):
            self.errors.append(f"{path}.{key}: unknown field")
        return cast("dict[str, Any]", data)

    def string(self, data: dict[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value:
            self.errors.append(f"{path}.{key}: must be a non-empty string")
            return ""
        return value

    def choice(
        self, data: dict[str, Any], key: str, path: str, options: Sequence[str], default: str
    ) -> str:
        value = data.get(key, default)
        if value not in options:
            self.errors.append(f"{path}.{key}: must be one of {list(options)}, got {value!r}")
            return default
        return cast("str", value)

    def boolean(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.errors.append(f"{path}.{key}: must be true or false, got {value!r}")
            return default
        return value

    def integer(
        self, data: dict[str, Any], key: str, path: str, default: int | None, minimum: int
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.errors.append(f"{path}.{key}: must be an integer >= {minimum}, got {value!r}")
            return minimum
        return value

    def number(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        default: float | None,
        *,
        low: float = -math.inf,
        high: float = math.inf,
    ) -> float:
        value: Any = data.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(float(value)) or not low <= float(value) <= high:
            self.errors.append(f"{path}.{key}: must be a number in [{low}, {high}], got {value!r}")
            return low if math.isfinite(low) else 0.0
        return float(value)

    def names(self, data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.errors.append(f"{path}.{key}: must be a non-empty list of names")
            return ()
        out: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not _NAME.match(item):
                self.errors.append(f"{path}.{key}[{index}]: {item!r} is not a valid name")
            elif item in out:
                self.errors.append(f"{path}.{key}[{index}]: duplicate name {item!r}")
            else:
                out.append(item)
        return tuple(out)


def _read_input(r: _Reader, raw: object) -> InputSpec:
    d = r.obj(raw, "input", {"name", "size", "channels", "dtype", "layout"})
    size = d.get("size")
    height = width = 16
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 8 for v in size)
    ):
        r.errors.append(f"input.size: must be [height, width], integers >= 8, got {size!r}")
    else:
        height, width = size
    if d.get("dtype", "float32") != "float32":
        r.errors.append(f"input.dtype: only float32 is supported, got {d.get('dtype')!r}")
    if d.get("layout", "NCHW") != "NCHW":
        r.errors.append(f"input.layout: only NCHW is supported, got {d.get('layout')!r}")
    return InputSpec(
        name=r.string(d, "name", "input"),
        height=height,
        width=width,
        channels=r.integer(d, "channels", "input", 1, 1),
    )


def _read_normalisation(r: _Reader, raw: object) -> Normalisation:
    d = r.obj(raw, "normalisation", {"type", "low", "high", "mean", "std"})
    kind = r.choice(d, "type", "normalisation", ("percentile", "zscore", "minmax"), "percentile")
    low = r.number(d, "low", "normalisation", 0.5, low=0.0, high=100.0)
    high = r.number(d, "high", "normalisation", 99.5, low=0.0, high=100.0)
    if kind == "percentile" and low >= high:
        r.errors.append(f"normalisation: low ({low}) must be below high ({high})")
    std = r.number(d, "std", "normalisation", 1.0, low=1e-12)
    return Normalisation(
        kind=cast("NormKind", kind),
        low=low,
        high=high,
        mean=r.number(d, "mean", "normalisation", 0.0),
        std=std,
    )


def _read_preprocessing(r: _Reader, raw: object) -> Preprocessing:
    keys = {
        "roi", "foreground_threshold", "keep_aspect", "crop_mm", "crop_px", "keypoint_min_span_mm"
    }  # fmt: skip
    d = r.obj(raw, "preprocessing", keys)
    roi = r.choice(d, "roi", "preprocessing", ("foreground_box", "centre_crop"), "foreground_box")
    keep_aspect = d.get("keep_aspect", False)
    if not isinstance(keep_aspect, bool):
        r.errors.append("preprocessing.keep_aspect: must be true or false")
        keep_aspect = False
    crop_mm = (
        None if d.get("crop_mm") is None else r.number(d, "crop_mm", "preprocessing", None, low=1.0)
    )
    crop_px = (
        None if d.get("crop_px") is None else r.integer(d, "crop_px", "preprocessing", None, 8)
    )
    if roi == "centre_crop" and (crop_mm is None) == (crop_px is None):
        r.errors.append("preprocessing: centre_crop needs exactly one of crop_mm and crop_px")
    min_span = (
        None
        if d.get("keypoint_min_span_mm") is None
        else r.number(d, "keypoint_min_span_mm", "preprocessing", None, low=1.0)
    )
    return Preprocessing(
        roi=cast("RoiKind", roi),
        foreground_threshold=r.number(
            d, "foreground_threshold", "preprocessing", 50.0, low=0, high=255
        ),
        keep_aspect=keep_aspect,
        crop_mm=crop_mm,
        crop_px=crop_px,
        keypoint_min_span_mm=min_span,
    )


def _read_segmentation(r: _Reader, raw: object, input_spec: InputSpec) -> SegmentationSpec:
    path = "outputs.segmentation"
    keys = {"name", "labels", "activation", "stride", "threshold", "contains"}
    d = r.obj(raw, path, keys)
    labels = r.names(d, "labels", path)
    stride = r.integer(d, "stride", path, 1, 1)
    contains_raw = d.get("contains", {})
    contains: dict[str, tuple[str, ...]] = {}
    if not isinstance(contains_raw, dict):
        r.errors.append(f"{path}.contains: must be an object label -> [labels]")
    else:
        for outer, inner in contains_raw.items():
            if outer not in labels or not isinstance(inner, list):
                r.errors.append(f"{path}.contains.{outer}: must be a label with a list of labels")
                continue
            unknown = [v for v in inner if v not in labels or v == outer]
            if unknown:
                r.errors.append(f"{path}.contains.{outer}: unknown or self labels {unknown}")
            contains[outer] = tuple(v for v in inner if v in labels and v != outer)
    for dim in (input_spec.height, input_spec.width):
        if dim % stride:
            r.errors.append(f"{path}.stride: {stride} does not divide the input size {dim}")
    return SegmentationSpec(
        name=r.string(d, "name", path),
        labels=labels,
        activation=cast(
            "SegActivation",
            r.choice(d, "activation", path, ("sigmoid", "softmax", "none"), "sigmoid"),
        ),
        stride=stride,
        threshold=r.number(d, "threshold", path, 0.5, low=0.0, high=1.0),
        contains=contains,
    )


def _read_heatmap(r: _Reader, raw: object, input_spec: InputSpec) -> HeatmapSpec:
    path = "outputs.heatmap"
    d = r.obj(raw, path, {"name", "keypoints", "stride", "activation", "counting"})
    stride = r.integer(d, "stride", path, 1, 1)
    counting: tuple[str, ...] = ()
    if d.get("counting") not in (None, []):
        counting = r.names(d, "counting", path)
        unknown = sorted(set(counting) - set(COUNTING_CHANNELS))
        if unknown:
            r.errors.append(f"{path}.counting: {unknown} unknown; known: {list(COUNTING_CHANNELS)}")
        elif set(counting) != set(COUNTING_CHANNELS):
            r.errors.append(f"{path}.counting: needs all of {list(COUNTING_CHANNELS)}")
    for dim in (input_spec.height, input_spec.width):
        if dim % stride:
            r.errors.append(f"{path}.stride: {stride} does not divide the input size {dim}")
    return HeatmapSpec(
        name=r.string(d, "name", path),
        keypoints=r.names(d, "keypoints", path),
        stride=stride,
        activation=cast(
            "HeatmapActivation", r.choice(d, "activation", path, ("none", "sigmoid"), "none")
        ),
        counting=counting,
    )


def _read_map(r: _Reader, raw: object, path: str, extra: str) -> CalibrationMap | None:
    if raw is None:
        return None
    d = r.obj(raw, path, {"x", "y", "threshold", extra})
    xs, ys = d.get("x"), d.get("y")
    numbers = (
        isinstance(xs, list)
        and isinstance(ys, list)
        and 0 < len(xs) == len(ys)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in [*xs, *ys])
        and all(math.isfinite(float(v)) for v in xs)
    )
    threshold = r.number(d, "threshold", path, None, low=0.0, high=1.0)
    if not numbers:
        r.errors.append(f"{path}: x and y must be two non-empty lists of numbers, equally long")
        return None
    x, y = [float(v) for v in cast("list[float]", xs)], [float(v) for v in cast("list[float]", ys)]
    if any(b <= a for a, b in itertools.pairwise(x)):
        r.errors.append(f"{path}.x: must be strictly increasing")
    if any(b < a for a, b in itertools.pairwise(y)) or not all(0 <= v <= 1 for v in y):
        r.errors.append(f"{path}.y: must be non-decreasing probabilities in [0, 1]")
    return CalibrationMap(map=IsotonicMap(x=tuple(x), y=tuple(y)), threshold=threshold)


def _read_lateral_extent(
    r: _Reader, raw: object, task: str, labels: Sequence[str]
) -> dict[str, float]:
    path = "postprocessing.lateral_extent_mm"
    if not isinstance(raw, dict):
        r.errors.append(f"{path}: must be an object label -> mm")
        return {}
    if raw and task != "sagittal":
        r.errors.append(f"{path}: only for sagittal models (a series of sagittal slices)")
    out: dict[str, float] = {}
    for label in raw:
        if label not in labels:
            r.errors.append(f"{path}.{label}: not a segmentation label {list(labels)}")
            continue
        out[label] = r.number(raw, label, path, None, low=0.5, high=100)
    return out


def _read_calibration(r: _Reader, raw: object, heatmap: HeatmapSpec | None) -> Calibration | None:
    """The optional `calibration` block (see CONTRACT.md)."""
    if raw is None:
        return None
    path = "calibration"
    d = r.obj(raw, path, {"method", "keypoint", "structure"})
    r.choice(d, "method", path, ("isotonic",), "isotonic")
    keypoint = _read_map(r, d.get("keypoint"), f"{path}.keypoint", "correct_within_mm")
    structure = _read_map(r, d.get("structure"), f"{path}.structure", "correct_dice")
    if d.get("keypoint") is None and d.get("structure") is None:
        r.errors.append(f"{path}: needs a keypoint or a structure map")
    if d.get("keypoint") is not None and heatmap is None:
        r.errors.append(f"{path}.keypoint: the model has no heatmap output")
    radius, dice = 4.0, 0.8
    if isinstance(d.get("keypoint"), dict):
        radius = r.number(d["keypoint"], "correct_within_mm", f"{path}.keypoint", 4.0, low=0.0)
    if isinstance(d.get("structure"), dict):
        dice = r.number(d["structure"], "correct_dice", f"{path}.structure", 0.8, low=0, high=1)
    return Calibration(
        keypoint=keypoint, structure=structure, keypoint_radius_mm=radius, structure_min_dice=dice
    )


def calibration_to_dict(calibration: Calibration) -> dict[str, Any]:
    """The JSON form of a calibration block (what `_read_calibration` reads back)."""
    c = calibration
    out: dict[str, Any] = {"method": "isotonic"}
    kinds = (
        ("keypoint", c.keypoint, "correct_within_mm", c.keypoint_radius_mm),
        ("structure", c.structure, "correct_dice", c.structure_min_dice),
    )
    for kind, part, key, value in kinds:
        if part is not None:
            out[kind] = {
                key: value,
                "threshold": part.threshold,
                "x": list(part.map.x),
                "y": list(part.map.y),
            }
    return out


def _check_corners_needed(
    r: _Reader, postprocessing: Postprocessing, heatmap: HeatmapSpec | None
) -> None:
    """The extent rule and the chain decoding read corners the heatmap must have."""
    names = set(heatmap.keypoints) if heatmap is not None else set()
    if postprocessing.extent != "full":
        missing = [n for n in EXTENT_KEYPOINTS if n not in names]
        if missing:
            r.errors.append(f"postprocessing.extent: needs heatmap keypoints {missing}")
    if postprocessing.corners == "chain" and not set(CHAIN_KEYPOINTS) <= names:
        r.errors.append(
            "postprocessing.corners: chain needs the heatmap keypoints C3..C7 (AS, AI, PS, PI each)"
        )
    if postprocessing.corner_levels == "counted" and (heatmap is None or not heatmap.counting):
        r.errors.append(
            "postprocessing.corner_levels: counted needs the heatmap's counting channels"
        )


def contract_from_dict(data: object) -> ModelContract:
    """Validates a parsed contract; raises ContractError listing every field-level problem."""
    r = _Reader()
    known = {
        "format", "version", "task", "input", "normalisation", "preprocessing", "outputs",
        "postprocessing", "metadata", "calibration",
    }  # fmt: skip
    d = r.obj(data, "contract", known)
    if not d and r.errors:
        raise ContractError(r.errors)
    if d.get("format", CONTRACT_FORMAT) != CONTRACT_FORMAT:
        r.errors.append(f"format: must be {CONTRACT_FORMAT!r}, got {d.get('format')!r}")
    if d.get("version", CONTRACT_VERSION) != CONTRACT_VERSION:
        r.errors.append(f"version: only version {CONTRACT_VERSION} is supported")
    task = r.choice(d, "task", "contract", TASKS, "sagittal")
    if "task" not in d:
        r.errors.append("task: is required")
    input_spec = _read_input(r, d.get("input"))
    outputs = r.obj(d.get("outputs"), "outputs", {"segmentation", "heatmap"})
    segmentation = _read_segmentation(r, outputs.get("segmentation"), input_spec)
    heatmap = None
    if outputs.get("heatmap") is not None:
        heatmap = _read_heatmap(r, outputs["heatmap"], input_spec)
        if heatmap.name and heatmap.name == segmentation.name:
            r.errors.append("outputs.heatmap.name: must differ from the segmentation output")
    normalisation = _read_normalisation(r, d.get("normalisation", {}))
    preprocessing = _read_preprocessing(r, d.get("preprocessing", {}))
    post_keys = {
        "polygon_tolerance_px", "min_component_px", "extent", "extent_min_confidence",
        "components", "average_flip_lr", "lateral_extent_mm", "slice_pooling_mm", "corners",
        "corner_levels",
    }  # fmt: skip
    post = r.obj(d.get("postprocessing", {}), "postprocessing", post_keys)
    extent = r.choice(post, "extent", "postprocessing", ("full", "c2c3_to_c7t1"), "full")
    postprocessing = Postprocessing(
        polygon_tolerance_px=r.number(
            post, "polygon_tolerance_px", "postprocessing", 0.75, low=0, high=50
        ),
        min_component_px=r.integer(post, "min_component_px", "postprocessing", 4, 0),
        extent=cast("Literal['full', 'c2c3_to_c7t1']", extent),
        extent_min_confidence=r.number(
            post, "extent_min_confidence", "postprocessing", 0.3, low=0, high=1
        ),
        components=cast(
            "Literal['largest', 'series']",
            r.choice(post, "components", "postprocessing", ("largest", "series"), "largest"),
        ),
        average_flip_lr=r.boolean(post, "average_flip_lr", "postprocessing", False),
        lateral_extent_mm=_read_lateral_extent(
            r, post.get("lateral_extent_mm", {}), task, segmentation.labels
        ),
        slice_pooling_mm=r.number(post, "slice_pooling_mm", "postprocessing", 0.0, low=0, high=5),
        corners=cast(
            "Literal['peak', 'chain']",
            r.choice(post, "corners", "postprocessing", ("peak", "chain"), "peak"),
        ),
        corner_levels=cast(
            "Literal['any', 'counted']",
            r.choice(post, "corner_levels", "postprocessing", ("any", "counted"), "any"),
        ),
    )
    if postprocessing.average_flip_lr and heatmap is not None:
        r.errors.append(
            "postprocessing.average_flip_lr: only for models without heatmaps "
            "(a mirrored heatmap swaps sides)"
        )
    _check_corners_needed(r, postprocessing, heatmap)
    metadata = d.get("metadata", {})
    if not isinstance(metadata, dict):
        r.errors.append("metadata: must be an object")
    calibration = _read_calibration(r, d.get("calibration"), heatmap)
    if r.errors:
        raise ContractError(r.errors)
    return ModelContract(
        task=cast("Task", task),
        input=input_spec,
        segmentation=segmentation,
        normalisation=normalisation,
        preprocessing=preprocessing,
        heatmap=heatmap,
        postprocessing=postprocessing,
        metadata=cast("dict[str, Any]", metadata),
        calibration=calibration,
    )


def contract_to_dict(contract: ModelContract) -> dict[str, Any]:
    """The JSON form of a contract (what `contract_from_dict` reads back)."""
    c = contract
    out: dict[str, Any] = {
        "format": CONTRACT_FORMAT,
        "version": CONTRACT_VERSION,
        "task": c.task,
        "input": {
            "name": c.input.name,
            "size": [c.input.height, c.input.width],
            "channels": c.input.channels,
            "dtype": "float32",
            "layout": "NCHW",
        },
        "normalisation": {
            "type": c.normalisation.kind,
            "low": c.normalisation.low,
            "high": c.normalisation.high,
            "mean": c.normalisation.mean,
            "std": c.normalisation.std,
        },
        "preprocessing": {
            "roi": c.preprocessing.roi,
            "foreground_threshold": c.preprocessing.foreground_threshold,
            "keep_aspect": c.preprocessing.keep_aspect,
            "crop_mm": c.preprocessing.crop_mm,
            "crop_px": c.preprocessing.crop_px,
            "keypoint_min_span_mm": c.preprocessing.keypoint_min_span_mm,
        },
        "outputs": {
            "segmentation": {
                "name": c.segmentation.name,
                "labels": list(c.segmentation.labels),
                "activation": c.segmentation.activation,
                "stride": c.segmentation.stride,
                "threshold": c.segmentation.threshold,
                "contains": {k: list(v) for k, v in c.segmentation.contains.items()},
            },
            "heatmap": None
            if c.heatmap is None
            else {
                "name": c.heatmap.name,
                "keypoints": list(c.heatmap.keypoints),
                "stride": c.heatmap.stride,
                "activation": c.heatmap.activation,
                "counting": list(c.heatmap.counting),
            },
        },
        "postprocessing": {
            "polygon_tolerance_px": c.postprocessing.polygon_tolerance_px,
            "min_component_px": c.postprocessing.min_component_px,
            "extent": c.postprocessing.extent,
            "extent_min_confidence": c.postprocessing.extent_min_confidence,
            "components": c.postprocessing.components,
            "average_flip_lr": c.postprocessing.average_flip_lr,
            "lateral_extent_mm": dict(c.postprocessing.lateral_extent_mm),
            "slice_pooling_mm": c.postprocessing.slice_pooling_mm,
            "corners": c.postprocessing.corners,
            "corner_levels": c.postprocessing.corner_levels,
        },
        "metadata": dict(c.metadata),
    }
    if c.calibration is not None:
        out["calibration"] = calibration_to_dict(c.calibration)
    return out


def load_contract(source: str | Path | Mapping[str, Any]) -> ModelContract:
    """Reads a contract from a JSON file path, a JSON string or an already parsed dict."""
    if isinstance(source, Mapping):
        return contract_from_dict(dict(source))
    text: str
    if isinstance(source, Path) or not source.lstrip().startswith("{"):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ContractError([f"contract file {path}: cannot be read ({exc.strerror})"]) from exc
    else:
        text = source
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError([f"not valid JSON: {exc.msg} at line {exc.lineno}"]) from exc
    return contract_from_dict(data)
