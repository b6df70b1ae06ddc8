"""Each export format read back by its own library, with shapes and numbers intact."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from django.contrib.auth.models import User
from PIL import Image as PILImage

from annotation.models import Image, Project
from annotation.pixels import pixel_read
from exports.formats.coco import KEYPOINT_CATEGORY
from measurements.core.fusion import shape_to_mask
from measurements.models import MeasurementResult
from tests.exports.conftest import Study, export_now, unzip

pytestmark = pytest.mark.django_db


def test_labelme_files_follow_labelme_rules_and_keep_the_shapes(
    project: Project, cast: dict[str, User], study: Study, tmp_path: Path
) -> None:
    job = export_now(project=project, user=cast["lead"], role="lead", formats=("labelme",))
    root = unzip(job, tmp_path / "out") / "labelme" / study.case.pseudonym
    files = sorted(root.glob("read*/*/*.json"))
    assert files, "no labelme file"
    head = study.gold_read.head
    assert head is not None
    for path in files:
        data = json.loads(path.read_text())
        keys = {"version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth"}
        assert keys <= set(data)
        assert data["imageData"] is None
        assert not Path(data["imagePath"]).is_absolute()
        image = PILImage.open(path.parent / data["imagePath"])  # labelme joins it to the JSON
        assert image.size == (data["imageWidth"], data["imageHeight"])
        assert image.mode == "L"
        assert all(isinstance(v, bool) for v in data["flags"].values())
        for shape in data["shapes"]:
            assert {"label", "points", "shape_type"} <= set(shape)
            assert shape["shape_type"] in {
                "polygon",
                "rectangle",
                "circle",
                "line",
                "point",
                "linestrip",
                "points",
                "mask",
            }
        assert data["spinelabel"]["read"] == study.gold_read.pk
    exported = {
        json.loads(p.read_text())["spinelabel"]["image"]: json.loads(p.read_text())["shapes"]
        for p in files
    }
    for image_id, shapes in head.shapes.items():
        assert exported[int(image_id)] == shapes
    originals = sorted(root.glob("images/*/*.16bit.png"))
    assert originals
    some = Image.objects.filter(series__case=study.case).select_related("series").first()
    assert some is not None
    stored = pixel_read(
        some.pixel_path, dtype=some.series.dtype, rows=some.series.rows, columns=some.series.columns
    )
    import cv2

    folder = next(root.glob(f"images/*-{some.series_id}"))
    again = cv2.imread(str(folder / f"slice{some.index:04d}.16bit.png"), cv2.IMREAD_UNCHANGED)
    assert again is not None
    assert again.dtype == np.uint16
    np.testing.assert_array_equal(again, stored)


def test_coco_instances_and_keypoints_load_in_pycocotools(
    project: Project, cast: dict[str, User], study: Study, tmp_path: Path
) -> None:
    from pycocotools.coco import COCO

    job = export_now(project=project, user=cast["lead"], role="lead", formats=("coco",))
    root = unzip(job, tmp_path / "out") / "coco"
    instances = COCO(str(root / "instances.json"))
    keypoints = COCO(str(root / "keypoints.json"))
    head = study.gold_read.head
    assert head is not None
    polygons = {
        (int(k), s["label"]): s["points"]
        for k, items in head.shapes.items()
        for s in items
        if s["label"] in {"cord", "canal"}
    }
    names = {c["id"]: c["name"] for c in instances.loadCats(instances.getCatIds())}
    anns = instances.loadAnns(instances.getAnnIds())
    assert len(anns) == len(polygons)
    for ann in anns:
        expected = polygons[(ann["image_id"], names[ann["category_id"]])]
        assert ann["segmentation"][0] == [v for p in expected for v in p]
        mask = instances.annToMask(ann)
        assert mask.sum() > 0
        assert ann["read_id"] == study.gold_read.pk
        file_name = instances.loadImgs(ann["image_id"])[0]["file_name"]
        assert (root / file_name).is_file()
    (category,) = keypoints.loadCats([KEYPOINT_CATEGORY])
    assert len(category["keypoints"]) == 20
    assert [1, 3] in category["skeleton"] or [3, 1] in category["skeleton"]
    (ann,) = keypoints.loadAnns(keypoints.getAnnIds())
    assert ann["num_keypoints"] == 20
    corners = {
        s["label"]: s["points"][0]
        for items in head.shapes.values()
        for s in items
        if s["shape_type"] == "point"
    }
    for i, name in enumerate(category["keypoints"]):
        assert ann["keypoints"][3 * i : 3 * i + 3] == [*corners[name], 2]


def _volumes(folder: Path) -> list[tuple[Path, Path, list[int]]]:
    """(image file, label file, slice indices) of one exported series."""
    whole = folder / "image.nii"
    if whole.exists():
        (labels,) = folder.glob("*.labels.nii")
        loaded: Any = nib.load(whole)
        count = loaded.shape[2]
        return [(whole, labels, list(range(count)))]
    out = []
    for path in sorted(folder.glob("image.slice*.nii")):
        suffix = path.name.removeprefix("image")
        (labels,) = folder.glob(f"*.labels{suffix}")
        out.append((path, labels, [int(suffix[6:10])]))
    return out


def test_nifti_masks_lie_on_the_image_geometry(
    project: Project, cast: dict[str, User], study: Study, tmp_path: Path
) -> None:
    job = export_now(project=project, user=cast["lead"], role="lead", formats=("nifti",))
    root = unzip(job, tmp_path / "out") / "nifti"
    labels = json.loads((root / "labels.json").read_text())
    assert labels == {"0": "background", "1": "cord", "2": "canal"}
    head = study.gold_read.head
    assert head is not None
    folders = sorted((root / study.case.pseudonym).iterdir())
    assert len(folders) == 2
    checked = 0
    for series_folder in folders:
        series_id = int(series_folder.name.rsplit("-", 1)[1])
        rows = list(Image.objects.filter(series_id=series_id).select_related("series"))
        for image_file, label_file, indices in _volumes(series_folder):
            image: Any = nib.load(image_file)
            mask: Any = nib.load(label_file)
            np.testing.assert_allclose(mask.affine, image.affine)
            assert mask.shape == image.shape
            series = rows[0].series
            spacing = np.linalg.norm(image.affine[:3, :2], axis=0)
            np.testing.assert_allclose(
                spacing, [series.pixel_spacing_col, series.pixel_spacing_row]
            )
            for k, index in enumerate(indices):
                row = rows[index]
                # Voxel (0, 0, k) is the first pixel of the slice: its DICOM position, in RAS.
                ras = image.affine @ np.array([0.0, 0.0, float(k), 1.0])
                np.testing.assert_allclose(
                    ras[:3], np.asarray(row.image_position) * [-1, -1, 1], atol=1e-4
                )
                stored = pixel_read(
                    row.pixel_path, dtype=series.dtype, rows=series.rows, columns=series.columns
                )
                np.testing.assert_array_equal(np.asarray(image.dataobj)[:, :, k].T, stored)
                data = np.asarray(mask.dataobj)[:, :, k].T
                shapes = head.shapes.get(str(row.pk), [])
                for value, label in ((1, "cord"), (2, "canal")):
                    polygon = next((s for s in shapes if s["label"] == label), None)
                    if polygon is None:
                        assert not (data == value).any()
                        continue
                    truth = shape_to_mask(polygon, image_shape=(series.rows, series.columns))
                    drawn = (data == 1) | (data == 2) if label == "canal" else data == 1
                    np.testing.assert_array_equal(drawn, truth)
                    checked += 1
    assert checked == 4  # cord and canal on the mid-sagittal and the narrowest axial slice


def test_csv_has_every_measurement_with_provenance(
    project: Project, cast: dict[str, User], study: Study, tmp_path: Path
) -> None:
    job = export_now(
        project=project,
        user=cast["lead"],
        role="lead",
        formats=("csv",),
        kind="model",
        value=str(study.model_version.pk),
    )
    root = unzip(job, tmp_path / "out") / "csv"
    with (root / "measurements.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    head = study.model_read.head
    assert head is not None
    stored = MeasurementResult.objects.filter(revision=head)
    expected = sum(len(r.values) for r in stored)
    assert expected > 0
    assert len(rows) == expected
    mscc = [r for r in rows if r["measure"] == "mscc"]
    assert mscc
    result = stored.get(image_id=int(mscc[0]["image_id"]))
    assert float(mscc[0]["value"]) == pytest.approx(result.values["mscc"])
    for row in rows:
        assert row["case"] == study.case.pseudonym
        assert row["read_id"] == str(study.model_read.pk)
        assert row["revision_id"] == str(head.pk)
        assert row["author_role"] == "model"
        assert "phantom-net v1" in row["model_version"]
        assert row["algorithm_version"] == result.algorithm_version
    units = {r["measure"]: r["unit"] for r in rows}
    assert units.get("ta") in (None, "mm2")
    assert units["mscc"] == "1"
    assert units["d_i"] == "mm"
