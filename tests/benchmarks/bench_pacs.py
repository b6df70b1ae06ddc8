"""PACS import throughput (issue 15 §3): instances per second imported from a real Orthanc
(WADO-RS, de-identification and storage included) against a plain dicomweb-client retrieve
of the same instances (target: the import at least 0.8 times the plain retrieve).

Loads N 512x512 uint16 MR slices with identifiers into a throwaway Orthanc (DICOMweb plugin,
loopback), then alternates the two measurements and reports the medians and their ratio.
Each import goes into a fresh project, so nothing is skipped as already imported.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_ingest import write_slices
from tests.benchmarks.common import django_setup, emit

SLICES = int(os.environ.get("BENCH_PACS_SLICES", "200"))
REPEATS = int(os.environ.get("BENCH_PACS_REPEATS", "3"))


def plain_retrieve(url: str, study: str, series: str) -> float:
    """Instances per second of dicomweb-client's own streaming series retrieve."""
    import requests
    from dicomweb_client.api import DICOMwebClient

    from pacs.client import DICOM_ANY
    from tests.pacs import orthanc

    session = requests.Session()
    session.auth = (orthanc.USER, orthanc.PASSWORD)
    client = DICOMwebClient(url=url, session=session)
    start = time.perf_counter()
    count = sum(
        1
        for _ in client.iter_series(
            study_instance_uid=study, series_instance_uid=series, media_types=DICOM_ANY
        )
    )
    elapsed = time.perf_counter() - start
    assert count == SLICES, count
    return count / elapsed


def product_import(url: str, study: str, run: int, data_dir: Path) -> float:
    from django.conf import settings
    from django.contrib.auth.models import User

    from annotation.models import Project
    from annotation.services.projects import project_create
    from pacs.models import ImportStatus, PacsImport
    from pacs.services.connection import connection_set
    from pacs.services.imports import pacs_import_run
    from tests.pacs import orthanc

    pixel_root = data_dir / f"pixels-{run}"
    settings.PIXEL_ROOT = pixel_root
    user, _ = User.objects.get_or_create(username="bench-lead")
    project = project_create(slug=f"bench-pacs-{run}")
    try:
        connection_set(
            project=project,
            user=user,
            base_url=url,
            username=orthanc.USER,
            password=orthanc.PASSWORD,
            timeout_s=60,
        )
        job = PacsImport.objects.create(project=project, requested_by=user, studies=[study])
        start = time.perf_counter()
        job = pacs_import_run(import_id=job.pk)
        elapsed = time.perf_counter() - start
        assert job.status == ImportStatus.SUCCEEDED, job.errors
        assert job.summary["images"] == SLICES, job.summary
    finally:
        Project.objects.filter(pk=project.pk).delete()
        shutil.rmtree(pixel_root, ignore_errors=True)
    return SLICES / elapsed


def ingest_only(folder: Path, run: int, data_dir: Path) -> float:
    """Instances per second of the file import of the same instances from disk: the part
    of the PACS import that is not the transfer."""
    from django.conf import settings

    from annotation.ingest import ingest_paths
    from annotation.models import Project
    from annotation.services.projects import project_create

    pixel_root = data_dir / f"pixels-ingest-{run}"
    settings.PIXEL_ROOT = pixel_root
    project = project_create(slug=f"bench-pacs-ingest-{run}")
    try:
        start = time.perf_counter()
        summary = ingest_paths(project=project, paths=[folder])
        elapsed = time.perf_counter() - start
        assert summary.images == SLICES, summary
    finally:
        Project.objects.filter(pk=project.pk).delete()
        shutil.rmtree(pixel_root, ignore_errors=True)
    return SLICES / elapsed


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-pacs-"))
    try:
        django_setup(database="spinelabel_bench_pacs", data_dir=data_dir)
        from django.core.management import call_command
        from pydicom import dcmread

        from tests.pacs.orthanc import Orthanc

        call_command("migrate", verbosity=0)
        paths = write_slices(data_dir / "dicom")
        first = dcmread(paths[0], stop_before_pixels=True)
        study, series = str(first.StudyInstanceUID), str(first.SeriesInstanceUID)
        server = Orthanc(data_dir / "orthanc").start()
        try:
            server.upload(paths)
            plain_retrieve(server.dicomweb, study, series)  # warm Orthanc's cache
            # A worker is long-lived: its first task's one-time imports (the domain-event
            # subscribers pull in torch) are not part of an import's rate.
            product_import(server.dicomweb, study, REPEATS, data_dir)
            plains, imports, ingests = [], [], []
            for run in range(REPEATS):
                plains.append(plain_retrieve(server.dicomweb, study, series))
                imports.append(product_import(server.dicomweb, study, run, data_dir))
                ingests.append(ingest_only(data_dir / "dicom", run, data_dir))
        finally:
            server.stop()
        plain = statistics.median(plains)
        imported = statistics.median(imports)
        detail = {
            "instances": SLICES,
            "shape": [512, 512],
            "repeats": REPEATS,
            "cpus": len(os.sched_getaffinity(0)),
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
        emit("pacs_plain_retrieve_instances_per_s", plain, "inst/s", "", **detail)
        emit("pacs_import_instances_per_s", imported, "inst/s", "", **detail)
        emit("pacs_file_ingest_instances_per_s", statistics.median(ingests), "inst/s", "", **detail)
        emit("pacs_import_vs_plain_retrieve", imported / plain, "ratio", ">= 0.8", **detail)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
