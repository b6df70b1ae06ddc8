"""Ingest throughput (issue 2): slices per second, de-identification and storage included,
against a plain pydicom read (``dcmread`` + ``pixel_array``) of the same files.

Writes N single-frame 512x512 uint16 MR slices with identifiers, then alternates the two
measurements (page cache warm for both) and reports the medians and their ratio
(target: ingest at least 0.8 times the plain read). Each ingest run goes into a fresh
project and an empty pixel store, so nothing is skipped as already imported.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.benchmarks.common import django_setup, emit

SLICES = int(os.environ.get("BENCH_INGEST_SLICES", "200"))
ROWS = COLUMNS = 512
REPEATS = int(os.environ.get("BENCH_INGEST_REPEATS", "3"))


def write_slices(folder: Path) -> list[Path]:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    folder.mkdir(parents=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:ROWS, 0:COLUMNS]
    body = (((yy - ROWS / 2) ** 2 + (xx - COLUMNS / 2) ** 2) < (ROWS / 2.5) ** 2) * 1500.0
    paths = []
    for index in range(SLICES):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Bench^Patient", "B-0001", "19600101"
        ds.InstitutionName, ds.StudyDate, ds.AccessionNumber = "Bench Hospital", "20240101", "A1"
        ds.Modality, ds.SeriesDescription, ds.SeriesNumber = "MR", "T2 SAG", 1
        ds.InstanceNumber = index + 1
        ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
        ds.ImagePositionPatient = [float(index) * 0.5, -128.0, 128.0]
        ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 0.5
        ds.Rows, ds.Columns = ROWS, COLUMNS
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        noise = rng.normal(0, 60, size=(ROWS, COLUMNS))
        ds.PixelData = np.clip(body + noise + 200, 0, 4095).astype("<u2").tobytes()
        path = folder / f"IM{index:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def plain_read(paths: list[Path]) -> tuple[float, float]:
    """(slices per second, CPU ms per slice)."""
    from pydicom import dcmread

    cpu, start = _cpu_seconds(), time.perf_counter()
    for path in paths:
        dcmread(path).pixel_array  # noqa: B018 - decoding is the point
    elapsed = time.perf_counter() - start
    return len(paths) / elapsed, (_cpu_seconds() - cpu) * 1000 / len(paths)


def ingest(folder: Path, run: int, data_dir: Path) -> tuple[float, float]:
    """(slices per second, CPU ms per slice), de-identification and storage included."""
    from django.conf import settings

    from annotation.ingest import ingest_paths
    from annotation.models import Project
    from annotation.services.projects import project_create

    pixel_root = data_dir / f"pixels-{run}"
    settings.PIXEL_ROOT = pixel_root
    project = project_create(slug=f"bench-ingest-{run}")
    try:
        cpu, start = _cpu_seconds(), time.perf_counter()
        summary = ingest_paths(project=project, paths=[folder])
        elapsed = time.perf_counter() - start
        cpu_ms = (_cpu_seconds() - cpu) * 1000 / SLICES
        assert summary.images == SLICES, summary
        assert not summary.skipped, summary
    finally:
        Project.objects.filter(pk=project.pk).delete()
        shutil.rmtree(pixel_root, ignore_errors=True)
    return SLICES / elapsed, cpu_ms


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        django_setup(database="spinelabel_bench_ingest", data_dir=data_dir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        paths = write_slices(data_dir / "dicom")
        plain_read(paths)  # warm the page cache and pydicom's imports
        reads, ingests = [], []
        for run in range(REPEATS):
            reads.append(plain_read(paths))
            ingests.append(ingest(data_dir / "dicom", run, data_dir))
        read_rate = statistics.median(r[0] for r in reads)
        ingest_rate = statistics.median(i[0] for i in ingests)
        read_cpu = statistics.median(r[1] for r in reads)
        ingest_cpu = statistics.median(i[1] for i in ingests)
        # The machine's load says how far wall-clock figures can be trusted.
        detail = {
            "slices": SLICES,
            "shape": [ROWS, COLUMNS],
            "repeats": REPEATS,
            "cpus": len(os.sched_getaffinity(0)),
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
        emit("dicom_read_slices_per_s", read_rate, "slice/s", "", **detail)
        emit("ingest_slices_per_s", ingest_rate, "slice/s", "", **detail)
        emit("ingest_vs_plain_read", ingest_rate / read_rate, "ratio", ">= 0.8", **detail)
        emit("dicom_read_cpu_per_slice", read_cpu, "ms", "", **detail)
        emit("ingest_cpu_per_slice", ingest_cpu, "ms", "", **detail)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
