"""No export carries a patient identifier: a study imported with known names, IDs, dates and
institution is exported in every registered format, and every exported file is searched
(raw and decompressed bytes, DICOM elements at any depth, PNG chunks, NIfTI headers)."""

from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path
from typing import Any

import nibabel as nib
import pytest
from django.contrib.auth.models import User
from pydicom import dcmread
from pydicom.dataset import Dataset

from annotation.models import Project
from exports.formats import formats_registered
from tests.exports.conftest import Study, export_now, unzip

pytestmark = pytest.mark.django_db

# Chunks that carry pixels and their layout only; text, time and EXIF chunks carry metadata.
PNG_PIXEL_CHUNKS = {b"IHDR", b"IDAT", b"IEND", b"PLTE", b"sBIT"}


def _png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    return chunks


def _dicom_text(dataset: Dataset) -> str:
    """Every element's value as text, nested sequences included."""
    parts: list[str] = []
    for element in dataset.iterall():
        if element.VR != "SQ" and element.tag != 0x7FE00010:
            parts.append(str(element.value))
    return "\n".join(parts)


def _texts(path: Path) -> list[bytes]:
    """What a reader could find in the file: its bytes, decompressed or parsed forms."""
    data = path.read_bytes()
    texts = [data]
    if path.name.endswith(".gz"):
        texts.append(gzip.decompress(data))
    if path.suffix == ".nii":
        image: Any = nib.load(path)
        header = image.header
        assert bytes(header["descrip"]).strip(b"\x00") == b"", path
        assert bytes(header["aux_file"]).strip(b"\x00") == b"", path
        assert not image.header.extensions, path
    if path.suffix == ".png":
        extra = set(_png_chunks(data)) - PNG_PIXEL_CHUNKS
        assert not extra, f"{path.name}: metadata chunks {extra}"
    if path.suffix == ".dcm":
        texts.append(_dicom_text(dcmread(path)).encode())
    return texts


def test_no_exported_file_carries_an_identifier(
    project: Project, cast: dict[str, User], study: Study, tmp_path: Path
) -> None:
    formats = tuple(formats_registered())
    assert {"labelme", "coco", "nifti", "csv"} <= set(formats)
    root = tmp_path / "out"
    for kind, value in (
        ("gold", ""),
        ("group", "annotator"),
        ("model", str(study.model_version.pk)),
    ):
        job = export_now(
            project=project, user=cast["lead"], role="lead", formats=formats, kind=kind, value=value
        )
        unzip(job, root / kind)
    files = [p for p in root.rglob("*") if p.is_file()]
    suffixes = {"".join(p.suffixes[-2:]) if p.name.endswith(".gz") else p.suffix for p in files}
    assert {".json", ".png", ".csv", ".nii"} <= suffixes
    if "dicom_seg" in formats or "dicom_sr" in formats:
        assert ".dcm" in suffixes
    needles = [v.lower().encode() for v in study.identifiers + study.source_uids]
    needles += [v.encode("utf-16-le").lower() for v in study.identifiers]
    assert len(needles) > 20
    # A date or time alone ("20240124") also occurs inside long numbers by chance: it must
    # stand on its own to count.
    patterns = [
        re.compile(rb"(?<![0-9.])" + re.escape(n) + rb"(?![0-9])") if n.isdigit() else None
        for n in needles
    ]
    for path in files:
        for text in _texts(path):
            lowered = text.lower()
            for needle, pattern in zip(needles, patterns, strict=True):
                found = pattern.search(lowered) if pattern else needle in lowered
                assert not found, f"{path.relative_to(root)} holds {needle!r}"
    # The pseudonym is what the export names the case by.
    assert any(study.case.pseudonym in p.parts for p in files)
