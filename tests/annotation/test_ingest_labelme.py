"""labelme folders: images become series, shapes (unknown keys included) an imported read."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from annotation.ingest import ingest_paths
from annotation.models import Image, Project, Read, Series
from annotation.pixels import pixel_read

pytestmark = pytest.mark.django_db


def _png(array: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", array)
    assert ok
    return bytes(encoded.tobytes())


def _labelme(shapes: list[dict[str, Any]], **extra: Any) -> str:
    return json.dumps({"version": "5.1.1", "flags": {}, "shapes": shapes, **extra})


POLYGON: dict[str, Any] = {
    "label": "cord",
    "points": [[10.5, 10.5], [20.5, 10.5], [20.5, 30.5]],
    "group_id": None,
    "description": "",
    "shape_type": "polygon",
    "flags": {},
    "reviewer_note": "kept verbatim",
}
KEYPOINT: dict[str, Any] = {
    "label": "C3_AS",
    "points": [[5.0, 6.0]],
    "shape_type": "point",
    "flags": {},
}
CALIPER: dict[str, Any] = {
    "label": "T",
    "points": [[1.0, 2.0], [9.0, 2.0]],
    "shape_type": "line",
    "flags": {},
}


def test_a_labelme_folder_keeps_its_images_and_shapes(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "patient"
    folder.mkdir()
    sagittal = np.arange(40 * 50, dtype=np.uint16).reshape(40, 50) * 20  # 16-bit PNG
    (folder / "img1.png").write_bytes(_png(sagittal))
    (folder / "img1.json").write_text(
        _labelme(
            [POLYGON, KEYPOINT],
            imagePath="img1.png",
            imageHeight=40,
            imageWidth=50,
            flags={"compression_present": True},
        )
    )
    axial = (np.arange(30 * 30).reshape(30, 30) % 256).astype(np.uint8)
    embedded = base64.b64encode(_png(axial)).decode()
    (folder / "img2.json").write_text(_labelme([CALIPER], imagePath="gone.png", imageData=embedded))

    summary = ingest_paths(project=project, paths=[folder])

    assert summary.skipped == []
    assert len(summary.cases) == 1
    assert summary.series == 2
    by_orientation = {s.orientation: s for s in Series.objects.all()}
    assert set(by_orientation) == {"sagittal", "axial"}  # from the template's label views
    first = by_orientation["sagittal"]
    assert (first.dtype, first.rows, first.columns, first.source) == ("uint16", 40, 50, "labelme")
    assert not first.spacing_known
    assert first.pixel_spacing_row == 1.0
    image = Image.objects.get(series=first)
    np.testing.assert_array_equal(
        pixel_read(image.pixel_path, dtype="uint16", rows=40, columns=50), sagittal
    )
    assert by_orientation["axial"].dtype == "uint8"

    read = Read.objects.get(kind="imported")
    assert read.name == "labelme"
    assert read.head is not None
    assert read.head.shapes[str(image.id)] == [POLYGON, KEYPOINT]
    assert read.head.case_fields == {"compression_present": True}


def test_a_labelme_json_naming_a_dicom_annotates_that_slice(
    project: Project, tmp_path: Path, write_series
) -> None:
    paths = write_series(tmp_path / "study", slices=3)
    (tmp_path / "study" / "note.json").write_text(
        _labelme([POLYGON], imagePath=paths[1].name, imageHeight=12, imageWidth=10)
    )

    summary = ingest_paths(project=project, paths=[tmp_path / "study"])

    assert summary.skipped == []
    assert summary.series == 1
    read = Read.objects.get(kind="imported")
    assert read.head is not None
    (image_id,) = read.head.shapes
    image = Image.objects.select_related("series").get(pk=int(image_id))
    assert image.series.spacing_known
    assert image.series.source == "dicom"
    assert image.position == pytest.approx(sorted(i.position for i in Image.objects.all())[1])


def test_it_refuses_a_json_whose_size_disagrees_with_its_image(
    project: Project, tmp_path: Path, census
) -> None:
    (tmp_path / "a.png").write_bytes(_png(np.zeros((8, 8), np.uint8)))
    (tmp_path / "a.json").write_text(
        _labelme([POLYGON], imagePath="a.png", imageHeight=9, imageWidth=8)
    )

    summary = ingest_paths(project=project, paths=[tmp_path])

    assert [s.file for s in summary.skipped] == [f"{tmp_path}/a.json"]
    assert "9x8 differ from its image 8x8" in summary.skipped[0].reason
    assert census()["cases"] == 0
    assert census()["pixel_files"] == 0


def test_it_refuses_malformed_labelme_files(project: Project, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    (tmp_path / "bad_shape.json").write_text(_labelme([{"label": 3}], imageData="AAAA"))
    (tmp_path / "lonely.png").write_bytes(_png(np.zeros((4, 4), np.uint8)))

    summary = ingest_paths(project=project, paths=[tmp_path])

    reasons = {Path(s.file).name: s.reason for s in summary.skipped}
    assert "not valid JSON" in reasons["broken.json"]
    assert "no 'shapes' list" in reasons["other.json"]
    assert "shape 0 is not a labelme shape" in reasons["bad_shape.json"]
    assert "without a labelme JSON" in reasons["lonely.png"]
    assert summary.cases == []
