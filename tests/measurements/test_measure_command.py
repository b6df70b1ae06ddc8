"""`manage.py measure`: labelme files in, JSON or CSV out, spacing from --spacing or DICOM."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from tests.measurements.analytic_spine import ellipse_px, sagittal_shapes, shape


def _write(path: Path, shapes: list[dict[str, Any]], image_path: str | None = None) -> Path:
    doc: dict[str, Any] = {"version": "5.4.1", "flags": {}, "shapes": shapes, "imageData": None}
    if image_path is not None:
        doc["imagePath"] = image_path
    path.write_text(json.dumps(doc))
    return path


def _dicom(path: Path, spacing: tuple[float, float] | None) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "MR"
    if spacing is not None:
        ds.PixelSpacing = [str(spacing[0]), str(spacing[1])]
    ds.save_as(path, enforce_file_format=True)
    return path


def _run(*args: str) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("measure", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def _axial_shapes(spacing: tuple[float, float]) -> list[dict[str, Any]]:
    return [shape("cord", ellipse_px(a=6.0, b=4.0, rotation_deg=0, spacing=spacing))]


def test_one_sagittal_file_prints_one_object_with_the_documented_keys(tmp_path):
    f = _write(tmp_path / "sag.json", sagittal_shapes())
    out, err, exc = _run(str(f), "--spacing", "0.5", "0.5")
    assert exc is None, err
    record = json.loads(out)
    assert record["file"] == str(f)
    assert record["view"] == "sagittal"
    for key in ("d_i", "d_a", "d_b", "D_i", "D_a", "D_b", "mscc", "mcc"):
        assert isinstance(record[key], float), key
    assert record["mscc_percent"] == pytest.approx(25.0)
    assert record["mcc_percent"] == pytest.approx(100 * 3.5 / 14)
    assert record["d_i_level"] == record["D_i_level"] == "C5"


def test_several_files_print_a_list_and_the_reference_can_be_chosen(tmp_path):
    sag = _write(tmp_path / "sag.json", sagittal_shapes())
    ax = _write(tmp_path / "ax.json", _axial_shapes((0.5, 0.5)))
    out, _, exc = _run(str(sag), str(ax), "--spacing", "0.5", "0.5", "--reference", "adjacent")
    assert exc is None
    records = json.loads(out)
    assert [r["view"] for r in records] == ["sagittal", "axial"]
    assert records[1]["ta"] == pytest.approx(np.pi * 24, rel=1e-3)
    assert records[1]["cr"] == pytest.approx(4 / 6)
    assert set(records[1]) >= {"file", "view", "ta", "transverse", "ap", "cr"}
    assert "d_i" not in records[1]


def test_spacing_comes_from_the_dicom_file_named_by_image_path(tmp_path):
    (tmp_path / "img").mkdir()
    _dicom(tmp_path / "img" / "ax.dcm", (0.4, 0.25))
    spacing = (0.4, 0.25)
    f = _write(tmp_path / "ax.json", _axial_shapes(spacing), image_path="img/ax.dcm")
    out, err, exc = _run(str(f))
    assert exc is None, err
    assert json.loads(out)["transverse"] == pytest.approx(12.0, rel=1e-3)


def test_csv_has_a_header_and_one_row_per_file(tmp_path):
    sag = _write(tmp_path / "sag.json", sagittal_shapes())
    ax = _write(tmp_path / "ax.json", _axial_shapes((0.5, 0.5)))
    out, _, exc = _run(str(sag), str(ax), "--spacing", "0.5", "0.5", "--format", "csv")
    assert exc is None
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["view"] for r in rows] == ["sagittal", "axial"]
    assert float(rows[0]["mscc"]) == pytest.approx(0.25)
    assert rows[0]["ta"] == ""
    assert float(rows[1]["cr"]) == pytest.approx(4 / 6)


def test_files_that_cannot_be_measured_are_named_and_the_others_still_measured(tmp_path):
    good = _write(tmp_path / "good.json", sagittal_shapes())
    partial = _write(
        tmp_path / "partial.json",
        [s for s in sagittal_shapes() if s["label"] not in ("canal", "C5_PS")],
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    out, err, exc = _run(str(good), str(partial), str(broken), "--spacing", "0.5", "0.5")
    assert exc is not None
    assert "2 of 3" in str(exc)
    assert f"{partial}: missing keypoints C5_PS, canal" in err
    assert f"{broken}: cannot read labelme JSON" in err
    records = json.loads(out)
    assert records[0]["mscc"] == pytest.approx(0.25)
    assert records[1]["mscc"] is None
    assert records[1]["missing"] == ["keypoints C5_PS", "canal"]
    assert records[2]["error"].startswith("cannot read labelme JSON")


@pytest.mark.parametrize(
    ("image_path", "make_dicom", "fragment"),
    [
        (None, None, "the JSON has no imagePath"),
        ("missing.dcm", None, "does not exist"),
        ("flat.dcm", (None,), "has no PixelSpacing"),
        ("notdicom.png", "png", "not a readable DICOM"),
    ],
)
def test_without_spacing_the_error_names_the_file_and_the_fix(
    tmp_path, image_path, make_dicom, fragment
):
    if make_dicom == (None,):
        _dicom(tmp_path / "flat.dcm", None)
    elif make_dicom == "png":
        (tmp_path / "notdicom.png").write_bytes(b"\x89PNG not really")
    f = _write(tmp_path / "a.json", sagittal_shapes(), image_path=image_path)
    _, err, exc = _run(str(f))
    assert exc is not None
    assert str(f) in err
    assert fragment in err
    assert "--spacing" in err or "DICOM" in err


def test_bad_spacing_is_refused(tmp_path):
    f = _write(tmp_path / "a.json", sagittal_shapes())
    with pytest.raises(CommandError, match="--spacing"):
        call_command("measure", str(f), "--spacing", "0", "0.5", stdout=io.StringIO())
