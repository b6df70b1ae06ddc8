"""Bad input is refused file by file, with the file and the reason, and leaves nothing behind."""

from __future__ import annotations

import base64
import gzip
import stat
import zipfile
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np
import pytest
from pydicom import dcmread
from pydicom.encaps import encapsulate
from pydicom.uid import MPEG2MPML, generate_uid

from annotation.ingest import ImportSummary, files, ingest_paths
from annotation.ingest.types import Refused
from annotation.models import Project, Series

pytestmark = pytest.mark.django_db

EMPTY = {"cases": 0, "series": 0, "images": 0, "reads": 0, "pixel_files": 0}


def _reason(summary: ImportSummary, file: str) -> str:
    reasons = [s.reason for s in summary.skipped if s.file == file]
    assert reasons, f"{file} not in skipped: {summary.skipped}"
    return reasons[0]


def test_it_refuses_a_file_that_is_not_dicom(project: Project, tmp_path: Path, census) -> None:
    path = tmp_path / "notes.dcm"
    path.write_bytes(b"this is not an image at all" * 40)

    summary = ingest_paths(project=project, paths=[path])

    assert "not a DICOM file" in _reason(summary, str(path))
    assert summary.cases == []
    assert census() == EMPTY


def test_it_refuses_an_empty_file(project: Project, tmp_path: Path, census) -> None:
    path = tmp_path / "empty.dcm"
    path.write_bytes(b"")

    summary = ingest_paths(project=project, paths=[path])

    assert _reason(summary, str(path)) == "empty file"
    assert census() == EMPTY


def test_it_refuses_a_dicom_without_pixel_data(
    project: Project, tmp_path: Path, write_series, census
) -> None:
    (path,) = write_series(tmp_path, slices=1, edit=lambda ds, _i: delattr(ds, "PixelData"))

    summary = ingest_paths(project=project, paths=[path])

    assert "no pixel data" in _reason(summary, str(path))
    assert census() == EMPTY


@pytest.mark.parametrize("keep", [0.5, 0.999], ids=["half", "one-byte-short"])
def test_it_refuses_a_truncated_file(
    project: Project, tmp_path: Path, write_series, census, keep: float
) -> None:
    (path,) = write_series(tmp_path, slices=1, rows=64, columns=64)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])

    summary = ingest_paths(project=project, paths=[path])

    assert "truncated" in _reason(summary, str(path))
    assert census() == EMPTY


def test_it_refuses_a_file_truncated_inside_its_header(
    project: Project, tmp_path: Path, write_series, census
) -> None:
    (path,) = write_series(tmp_path, slices=1)
    path.write_bytes(path.read_bytes()[:400])

    summary = ingest_paths(project=project, paths=[path])

    reason = _reason(summary, str(path))
    assert "truncated" in reason
    assert census() == EMPTY


def test_it_refuses_a_series_that_mixes_modalities(
    project: Project, tmp_path: Path, write_series, census
) -> None:
    def ct_once(ds, index):
        if index == 1:
            ds.Modality = "CT"

    paths = write_series(tmp_path / "mixed", slices=3, edit=ct_once)

    summary = ingest_paths(project=project, paths=[tmp_path / "mixed"])

    for path in paths:
        assert "mixes modalities (CT, MR)" in _reason(summary, str(path))
    assert census() == EMPTY


def test_it_refuses_an_unsupported_transfer_syntax(
    project: Project, tmp_path: Path, write_series, census
) -> None:
    def mpeg(ds, _index):
        ds.file_meta.TransferSyntaxUID = MPEG2MPML
        ds.PixelData = encapsulate([b"\x00" * 64])
        ds["PixelData"].VR = "OB"

    (path,) = write_series(tmp_path, slices=1, edit=mpeg)

    summary = ingest_paths(project=project, paths=[path])

    reason = _reason(summary, str(path))
    assert "MPEG2 Main Profile / Main Level" in reason
    assert MPEG2MPML in reason
    assert census() == EMPTY


def test_it_refuses_images_above_the_pixel_limit(
    project: Project, tmp_path: Path, write_series, census, settings
) -> None:
    settings.INGEST_MAX_IMAGE_PIXELS = 100
    (path,) = write_series(tmp_path, slices=1, rows=12, columns=10)

    summary = ingest_paths(project=project, paths=[path])

    assert "12x10 pixels is above the limit of 100" in _reason(summary, str(path))
    assert census() == EMPTY


def test_it_refuses_a_series_above_the_slice_limit_and_deletes_its_pixels(
    project: Project, tmp_path: Path, write_series, census, settings
) -> None:
    settings.INGEST_MAX_SERIES_SLICES = 3
    paths = write_series(tmp_path / "long", slices=4)

    summary = ingest_paths(project=project, paths=[tmp_path / "long"])

    for path in paths:
        assert "4 slices, above the limit of 3" in _reason(summary, str(path))
    assert census() == EMPTY


def _zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("member", "expected"),
    [("../evil.dcm", "'..' component"), ("/abs/evil.dcm", "absolute path")],
)
def test_it_refuses_a_zip_with_unsafe_paths(
    project: Project, tmp_path: Path, write_series, *, census, member: str, expected: str
) -> None:
    (good,) = write_series(tmp_path / "src", slices=1)
    archive = _zip(tmp_path / "upload.zip", {"ok.dcm": good.read_bytes(), member: b"x"})

    summary = ingest_paths(project=project, paths=[archive])

    assert expected in _reason(summary, str(archive))
    assert census() == EMPTY
    assert not (tmp_path / "evil.dcm").exists()


def test_it_refuses_a_zip_with_a_symbolic_link(
    project: Project, tmp_path: Path, write_series, census
) -> None:
    (good,) = write_series(tmp_path / "src", slices=1)
    archive = _zip(tmp_path / "links.zip", {"ok.dcm": good.read_bytes()}, symlink="link.dcm")

    summary = ingest_paths(project=project, paths=[archive])

    assert "symbolic link" in _reason(summary, str(archive))
    assert census() == EMPTY


def test_it_refuses_a_zip_that_unpacks_above_the_upload_limit(
    project: Project, tmp_path: Path, census, settings
) -> None:
    settings.INGEST_MAX_UPLOAD_BYTES = 10_000
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.dcm", b"\x00" * 1_000_000)

    summary = ingest_paths(project=project, paths=[tmp_path / "bomb.zip"])

    assert "above the limit of 10000" in _reason(summary, str(tmp_path / "bomb.zip"))
    assert census() == EMPTY


def _zeros_bomb(path: Path, megabytes: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("scan/zeros.dcm", "w", force_zip64=True) as member:
            block = b"\x00" * (1 << 20)
            for _ in range(megabytes):
                member.write(block)
        archive.writestr("scan/after.dcm", b"\x01" * 1000)
    return path


def test_it_stops_unpacking_a_zip_bomb_at_the_ratio_limit_and_leaves_nothing(
    project: Project, tmp_path: Path, census, settings, monkeypatch
) -> None:
    settings.INGEST_MAX_ZIP_RATIO = 50
    bomb = _zeros_bomb(tmp_path / "bomb200m.zip", megabytes=200)
    compressed = zipfile.ZipFile(bomb).getinfo("scan/zeros.dcm").compress_size
    unpacked = []
    original_read = zipfile.ZipExtFile.read

    def counting_read(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        data = original_read(self, n)
        unpacked.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)

    summary = ingest_paths(project=project, paths=[bomb])

    reason = _reason(summary, str(bomb))
    assert "'scan/zeros.dcm' expands more than 50 times" in reason
    assert "INGEST_MAX_ZIP_RATIO" in reason
    # Stopped at the limit (plus one chunk), not after unpacking 200 MB.
    assert sum(unpacked) <= max(50 * compressed, files.RATIO_GRACE_BYTES) + (1 << 20)
    assert census() == EMPTY
    assert list((Path(settings.DATA_DIR) / "tmp").iterdir()) == []


def test_the_running_total_refuses_members_that_unpack_above_the_limit_together(
    tmp_path: Path, settings
) -> None:
    archive = _zip(tmp_path / "many.zip", {f"m{i}.dcm": bytes([i]) * 4000 for i in range(5)})
    budget = files._Budget(limit=10_000, ratio=1e9)
    dest = tmp_path / "out"
    dest.mkdir()

    def extract_all() -> None:
        with zipfile.ZipFile(archive) as opened:
            for info in opened.infolist():
                files._extract_member(opened, info, dest=dest, budget=budget)

    with pytest.raises(Refused, match="more than 10000"):
        extract_all()

    assert budget.written <= 10_000 + 4000


def test_it_does_not_open_a_zip_inside_a_zip(project: Project, tmp_path: Path, census) -> None:
    inner = _zip(tmp_path / "inner.zip", {"a.txt": b"x"})
    outer = _zip(tmp_path / "outer.zip", {"inner.zip": inner.read_bytes()})

    summary = ingest_paths(project=project, paths=[outer])

    assert "nested zip" in _reason(summary, f"{outer}:inner.zip")
    assert census() == EMPTY


def test_a_zip_of_good_files_is_imported(project: Project, tmp_path: Path, write_series) -> None:
    paths = write_series(tmp_path / "src", slices=3)
    archive = _zip(tmp_path / "study.zip", {f"series/{p.name}": p.read_bytes() for p in paths})

    summary = ingest_paths(project=project, paths=[archive])

    assert summary.skipped == []
    assert summary.images == 3


def _nifti(path: Path, shape: tuple[int, int, int] = (6, 7, 8)) -> Path:
    data = np.arange(np.prod(shape), dtype=np.int16).reshape(shape)
    volume = nib.Nifti1Image(data, np.diag([1.0, 1.0, 2.0, 1.0]))  # type: ignore[no-untyped-call]
    nib.save(volume, path)
    return path


@pytest.mark.parametrize(
    ("offset", "value"),
    [(344, b"xxxx"), (70, (999).to_bytes(2, "little"))],
    ids=["magic", "datatype"],
)
def test_it_refuses_a_nifti_with_a_broken_header(
    project: Project, tmp_path: Path, census, offset: int, value: bytes
) -> None:
    path = _nifti(tmp_path / "vol.nii")
    data = bytearray(path.read_bytes())
    data[offset : offset + len(value)] = value
    path.write_bytes(bytes(data))

    summary = ingest_paths(project=project, paths=[path])

    assert "broken NIfTI header" in _reason(summary, str(path))
    assert census() == EMPTY


def test_it_refuses_a_truncated_nifti(project: Project, tmp_path: Path, census) -> None:
    path = _nifti(tmp_path / "vol.nii.gz")
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) // 2]))

    summary = ingest_paths(project=project, paths=[path])

    assert "truncated" in _reason(summary, str(path))
    assert census() == EMPTY


def test_it_refuses_a_mask_whose_geometry_differs_from_its_volume(
    project: Project, tmp_path: Path, census
) -> None:
    volume = _nifti(tmp_path / "t2.nii.gz")
    mask = _nifti(tmp_path / "t2_seg.nii.gz", shape=(6, 7, 9))

    summary = ingest_paths(project=project, paths=[tmp_path])

    reason = _reason(summary, str(mask))
    assert "geometry differs from its volume" in reason
    assert str(volume) in reason
    # The volume itself is good: it is imported, without the mask read.
    assert census()["series"] == 2
    assert census()["reads"] == 0


def test_it_refuses_a_labelme_json_whose_image_path_leaves_the_import(
    project: Project, tmp_path: Path, census
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    folder = tmp_path / "labelme"
    folder.mkdir()
    (folder / "a.json").write_text('{"shapes": [], "imagePath": "../secret.png"}')

    summary = ingest_paths(project=project, paths=[folder])

    assert "not among the imported files" in _reason(summary, f"{folder}/a.json")
    assert census() == EMPTY


def test_a_folder_with_good_and_bad_files_keeps_the_good_ones(
    project: Project, tmp_path: Path, write_series, census
) -> None:
    folder = tmp_path / "mixed"
    good = write_series(folder / "good", slices=3)
    (folder / "readme.txt").write_text("not dicom")
    (folder / "empty.dcm").write_bytes(b"")
    truncated = write_series(folder / "bad", slices=1, rows=32, columns=32)[0]
    truncated.write_bytes(truncated.read_bytes()[:-100])

    summary = ingest_paths(project=project, paths=[folder])

    assert summary.images == 3
    assert len(summary.cases) == 1
    skipped = {s.file for s in summary.skipped}
    assert skipped == {f"{folder}/readme.txt", f"{folder}/empty.dcm", f"{folder}/bad/IM0001.dcm"}
    assert census()["images"] == 3
    assert census()["pixel_files"] == 3
    assert all(str(p) not in skipped for p in good)


def test_a_refused_series_does_not_delete_a_pixel_file_a_kept_series_shares(
    project: Project, tmp_path: Path, write_series, census, settings
) -> None:
    settings.INGEST_MAX_SERIES_SLICES = 3
    study = generate_uid()
    kept = write_series(tmp_path / "kept", study_uid=study, slices=2, seed=7)
    refused = write_series(tmp_path / "refused", study_uid=study, slices=4, seed=7)
    # The refused series starts with the same two slices (same seed): same pixel files.
    assert dcmread(kept[0]).PixelData == dcmread(refused[0]).PixelData

    summary = ingest_paths(project=project, paths=[tmp_path])

    assert summary.images == 2
    assert len(summary.skipped) == 4
    series = Series.objects.get()
    assert census()["pixel_files"] == 2
    for image in series.images.all():
        assert (Path(settings.PIXEL_ROOT) / image.pixel_path).exists()


def test_worker_processes_apply_the_limits_and_leave_nothing_behind(
    project: Project, tmp_path: Path, write_series, census, settings
) -> None:
    from annotation.ingest import dicom_worker

    count = dicom_worker.POOL_MIN_FILES + 2
    settings.INGEST_MAX_IMAGE_PIXELS = 80  # the first series' 8x8 slices pass, 12x10 do not
    small = write_series(tmp_path / "small", slices=count, rows=8, columns=8)
    large = write_series(tmp_path / "large", slices=4, rows=12, columns=10)
    settings.INGEST_MAX_SERIES_SLICES = count - 1  # ... but the first has too many slices

    summary = ingest_paths(project=project, paths=[tmp_path])

    assert "above the limit of 80 pixels" in _reason(summary, str(large[0]))
    assert f"{count} slices, above the limit" in _reason(summary, str(small[0]))
    assert census() == EMPTY


def _labelme_file(folder: Path, name: str, shapes_json: str) -> Path:
    """A labelme JSON with a small embedded PNG; ``shapes_json`` is spliced in raw."""
    ok, png = cv2.imencode(".png", np.zeros((20, 30), dtype=np.uint8))
    assert ok
    image = base64.b64encode(png.tobytes()).decode()
    path = folder / name
    path.write_text(
        f'{{"version": "5.5.0", "flags": {{}}, "shapes": {shapes_json}, "imageData": "{image}"}}'
    )
    return path


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ('{"label": "cord", "points": [[1e400, 1], [2, 3], [4, 5]], "x": 0}', "finite numbers"),
        ('{"label": "cord", "points": [[' + "1" * 401 + ", 1], [2, 3], [4, 5]]}", "finite"),
        ('{"label": "cord", "points": [[1, 1]], "note": "' + "n" * 20_000 + '"}', "longer than"),
        ('{"label": "cord", "points": [[1, 1]], "x": ' + "[" * 5000 + "]" * 5000 + "}", "deeper"),
    ],
    ids=["overflowing-float", "401-digit-integer", "20k-string", "nested-5000"],
)
def test_it_refuses_a_hostile_labelme_file_by_name(
    project: Project, tmp_path: Path, census, shape: str, reason: str
) -> None:
    path = _labelme_file(tmp_path, "hostile.json", f"[{shape}]")

    summary = ingest_paths(project=project, paths=[path])

    assert reason in _reason(summary, str(path))
    assert census() == EMPTY
