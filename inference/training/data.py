"""Training slices: synthetic phantoms (fixtures.phantom) and the real SCT volumes with manual
cord masks (fixtures/data/sct_testing_data), sliced in the display conventions of the product:
sagittal superior up and anterior left, axial radiological (patient right on image left,
anterior up). Keypoints and coordinates are labelme pixel coordinates (pixel centre i + 0.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from inference.training.nets import KEYPOINT_NAMES

Task = Literal["sagittal", "axial"]

REPO_ROOT = Path(__file__).resolve().parents[2]
# The SCT volumes copied into the repository with their LICENSE (MIT).
REAL_DATA_DIR = REPO_ROOT / "fixtures" / "data" / "sct_testing_data"
REAL_VOLUMES: dict[str, tuple[str, str]] = {
    "t2": ("t2/t2.nii.gz", "t2/t2_seg-manual.nii.gz"),
    "t1": ("t1/t1w.nii.gz", "t1/t1w_seg-manual.nii.gz"),
    "t2s": ("t2s/t2s.nii.gz", "t2s/t2s_seg.nii.gz"),
    "mt": ("mt/mt1.nii.gz", "mt/mt1_seg.nii.gz"),
}
# Volumes acquired thin enough in the left-right direction to give sagittal slices.
SAGITTAL_VOLUMES = ("t2", "t1")
# A real sagittal slice is used when its cord area is at least this share of the largest
# slice's: the slices through the body of the cord, where an annotator would draw it.
SAGITTAL_MIN_CORD_SHARE = 0.5


@dataclass(frozen=True)
class TrainingSlice:
    image: np.ndarray  # (rows, cols), uint16 / int16 / float32
    spacing: tuple[float, float]  # (row mm, column mm)
    masks: Mapping[str, np.ndarray | None]  # label -> bool (rows, cols); None: not annotated
    keypoints: np.ndarray | None  # (20, 2) in KEYPOINT_NAMES order; None: not annotated
    source: str  # "phantom:<seed>:sagittal:<slice>" or "real:<volume>:axial:<slice>"
    # Where the masks are valid (None: everywhere). Phantom sagittal polygons stop at the
    # C2/C3 and C7/T1 disc centres although the cord goes on: outside that band we do not know.
    valid: np.ndarray | None = None
    # Position (mm) along its volume's slicing axis, for a real slice: the slices of one
    # volume scored together are one series (predict_slices' `positions_mm`).
    position_mm: float | None = None


def _canonical(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    import nibabel as nib

    # RAS: x increases towards the patient's right, y anterior, z superior.
    image = nib.as_closest_canonical(nib.load(str(path)))  # type: ignore[no-untyped-call]
    data = np.asarray(image.dataobj)
    zooms = tuple(float(z) for z in image.header.get_zooms()[:3])
    return data, (zooms[0], zooms[1], zooms[2])


def load_real_volume(
    name: str, data_dir: Path = REAL_DATA_DIR
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """(image, cord mask, zooms) of one SCT volume, reoriented to RAS."""
    if name not in REAL_VOLUMES:
        raise ValueError(f"unknown real volume {name!r}; known: {sorted(REAL_VOLUMES)}")
    image_file, mask_file = REAL_VOLUMES[name]
    image, zooms = _canonical(data_dir / image_file)
    mask, mask_zooms = _canonical(data_dir / mask_file)
    if image.shape != mask.shape or not np.allclose(zooms, mask_zooms):
        raise ValueError(f"{name}: the cord mask grid does not match the image grid")
    pixels = image.astype(np.float32) if image.dtype != np.int16 else image
    return pixels, mask > 0.5, zooms


def sagittal_view(volume: np.ndarray, index: int) -> np.ndarray:
    """Sagittal slice `index` (along x) of a RAS volume: rows superior -> inferior, columns
    anterior -> posterior."""
    return np.ascontiguousarray(volume[index].T[::-1, ::-1])


def axial_view(volume: np.ndarray, index: int) -> np.ndarray:
    """Axial slice `index` (along z) of a RAS volume, radiological: rows anterior ->
    posterior, columns patient right -> left."""
    return np.ascontiguousarray(volume[:, :, index].T[::-1, ::-1])


def real_slices(
    task: Task,
    volumes: Iterable[str],
    data_dir: Path = REAL_DATA_DIR,
    *,
    min_cord_share: float = SAGITTAL_MIN_CORD_SHARE,
) -> list[TrainingSlice]:
    """Real slices with a manual cord mask (canal not annotated): sagittal ones through the
    body of the cord (a cord of at least `min_cord_share` of the volume's largest: the scored
    set by default; 0 adds the lateral slices, where the mask is a thin partial-volume sliver),
    axial ones wherever the mask is."""
    out: list[TrainingSlice] = []
    for name in volumes:
        series = real_series(task, name, data_dir)
        areas = [int(item.masks["cord"].sum()) for item in series]  # type: ignore[union-attr]
        floor = min_cord_share * max(areas) if task == "sagittal" else 0
        out += [
            item for item, area in zip(series, areas, strict=True) if area > 0 and area >= floor
        ]
    return out


def real_series(task: Task, name: str, data_dir: Path = REAL_DATA_DIR) -> list[TrainingSlice]:
    """Every slice of one real volume in the view, in order, each with its cord mask (empty
    beside the cord) and its position: the series a pre-label job would predict."""
    image, mask, (zx, zy, zz) = load_real_volume(name, data_dir)
    if task == "sagittal":
        if name not in SAGITTAL_VOLUMES:
            raise ValueError(f"{name}: slices too thick left-right for sagittal training")
        count, view, spacing, gap = mask.shape[0], sagittal_view, (zz, zy), zx
    else:
        count, view, spacing, gap = mask.shape[2], axial_view, (zy, zx), zz
    return [
        TrainingSlice(
            image=view(image, index),
            spacing=spacing,
            masks={"cord": view(mask, index), "canal": None},
            keypoints=None,
            source=f"real:{name}:{task}:{index}",
            position_mm=index * gap,
        )
        for index in range(count)
    ]


def _phantom(seed: int) -> object:
    from fixtures import phantom as ph

    return ph.make_phantom(ph.random_spec(seed=seed))


def labelled_band(
    keypoints: np.ndarray, canal: np.ndarray, spacing: tuple[float, float], margin_mm: float = 4.0
) -> np.ndarray:
    """Where the phantom's sagittal masks are known: everywhere except the spinal column
    (the canal's width plus `margin_mm`, along the C3 -> C7 axis) beyond the two ends of the
    labelled band, where the cord goes on unlabelled. Elsewhere outside the band (brain,
    muscle, bone) the masks are known to be empty."""
    scale = np.array([spacing[1], spacing[0]])
    pts = keypoints * scale
    axis = pts[16:].mean(axis=0) - pts[:4].mean(axis=0)  # C7 corners minus C3 corners
    axis /= np.linalg.norm(axis)
    normal = np.array([-axis[1], axis[0]])
    rows, cols = np.indices(canal.shape)
    x, y = (cols + 0.5) * scale[0], (rows + 0.5) * scale[1]
    s = x * axis[0] + y * axis[1]
    t = x * normal[0] + y * normal[1]
    in_band = (s >= s[canal].min()) & (s <= s[canal].max())
    in_column = (t >= t[canal].min() - margin_mm) & (t <= t[canal].max() + margin_mm)
    return np.asarray(in_band | ~in_column)


def phantom_slices(
    task: Task, seeds: Sequence[int], *, sagittal_offsets: Sequence[int] = (-1, 0, 1)
) -> list[TrainingSlice]:
    """Phantom slices: sagittal slices around the mid slice, every axial slice; cord and canal
    masks everywhere. The phantom draws the vertebral bodies the same on every sagittal slice,
    so the mid slice's corners hold on its neighbours too."""
    out: list[TrainingSlice] = []
    for seed in seeds:
        p = _phantom(seed)
        if task == "sagittal":
            series, truth = p.sagittal, p.sagittal_truth  # type: ignore[attr-defined]
            spacing = (float(series.pixel_spacing[0]), float(series.pixel_spacing[1]))
            keypoints = np.array([truth.keypoints[n] for n in KEYPOINT_NAMES], dtype=np.float64)
            valid = labelled_band(keypoints, truth.canal_masks[truth.mid_index], spacing)
            for offset in sagittal_offsets:
                index = truth.mid_index + offset
                out.append(
                    TrainingSlice(
                        image=series.pixels[index],
                        spacing=spacing,
                        masks={"cord": truth.cord_masks[index], "canal": truth.canal_masks[index]},
                        keypoints=keypoints,
                        source=f"phantom:{seed}:sagittal:{index}",
                        valid=valid,
                    )
                )
        else:
            series, truth = p.axial, p.axial_truth  # type: ignore[attr-defined]
            spacing = (float(series.pixel_spacing[0]), float(series.pixel_spacing[1]))
            for index in range(series.pixels.shape[0]):
                out.append(
                    TrainingSlice(
                        image=series.pixels[index],
                        spacing=spacing,
                        masks={"cord": truth.cord_masks[index], "canal": truth.canal_masks[index]},
                        keypoints=None,
                        source=f"phantom:{seed}:axial:{index}",
                    )
                )
    return out


def synth_slice(
    seed: int, task: Task = "sagittal", *, lateral_p: float | None = None
) -> TrainingSlice:
    """One domain-randomised slice (issue 14 §1): a random contrast, resolution, slice
    thickness, bias, noise and field of view rendered from a label map (sagittal:
    fixtures.synth_render, with the 20 corners, some of which a cropped field of view may cut
    off; axial: fixtures.synth_axial). Cord and canal masks everywhere. `lateral_p`: the
    sagittal share drawn anywhere across the canal (None: training's, LATERAL_P)."""
    if task == "axial":
        from fixtures.synth_axial import synth_axial

        axial = synth_axial(seed)
        return TrainingSlice(
            image=axial.image,
            spacing=axial.spacing,
            masks={"cord": axial.cord, "canal": axial.canal},
            keypoints=None,
            source=f"synth:{seed}:axial",
        )
    from fixtures.synth_render import LATERAL_P, synth_sagittal

    item = synth_sagittal(seed, lateral_p=LATERAL_P if lateral_p is None else lateral_p)
    return TrainingSlice(
        image=item.image,
        spacing=item.spacing,
        masks={"cord": item.cord, "canal": item.canal},
        keypoints=item.keypoints,
        source=f"synth:{seed}:sagittal",
    )


def synth_slices(seeds: Sequence[int], task: Task = "sagittal") -> list[TrainingSlice]:
    """`synth_slice` of each seed (a fixed held-out or inspection set: near the midline, as
    the other fixed synthetic sets; the lateral draws are training's)."""
    return [synth_slice(seed, task, lateral_p=0.0) for seed in seeds]
