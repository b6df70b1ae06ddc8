"""Where export archives live (DATA_DIR/exports), how one is zipped atomically, and expiry.

An archive is written as a hidden temporary file beside its final name and renamed into
place only once complete, so a reader never sees half an archive, and a failed export
leaves nothing behind. Its memory is the zip's directory (about half a kilobyte a file).
Expired archives are deleted (the job row stays, answering 410).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from exports.models import ExportJob, ExportStatus

# Already compressed: stored as they are (deflating them again costs time for nothing).
_STORED = (".png", ".gz", ".npy", ".dcm")


def export_root() -> Path:
    root = Path(settings.DATA_DIR) / "exports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def work_folder(job_id: int) -> Path:
    """An empty private folder the writers fill (removed by ``work_remove``)."""
    return Path(tempfile.mkdtemp(prefix=f".work-{job_id}-", dir=export_root()))


def work_remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _files(folder: Path) -> Iterator[Path]:
    """The files under ``folder`` in a stable order, one folder listed at a time (a list of
    every path would grow with the export; the zip's own directory is all that must)."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _files(Path(entry.path))
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def archive_write(*, folder: Path, job_id: int) -> tuple[str, int]:
    """Zip ``folder`` into the job's archive atomically; returns (name, size in bytes)."""
    root = export_root()
    name = f"export-{job_id}.zip"
    fd, temp_name = tempfile.mkstemp(prefix=f".tmp-{job_id}-", suffix=".zip", dir=root)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for path in _files(folder):
                stored = path.name.endswith(_STORED)
                archive.write(
                    path,
                    path.relative_to(folder).as_posix(),
                    compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                    compresslevel=None if stored else 1,
                )
        os.replace(temp_name, root / name)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return name, (root / name).stat().st_size


def archive_path(job: ExportJob) -> Path | None:
    if not job.file:
        return None
    path = export_root() / job.file
    return path if path.is_file() else None


def archive_expired(job: ExportJob) -> bool:
    return job.expires_at is not None and job.expires_at <= timezone.now()


def archives_purge_expired() -> int:
    """Delete the archives whose link expired; returns how many."""
    expired = ExportJob.objects.filter(
        status=ExportStatus.SUCCEEDED, expires_at__lte=timezone.now()
    ).exclude(file="")
    count = 0
    for pk, file in expired.values_list("pk", "file"):
        (export_root() / file).unlink(missing_ok=True)
        ExportJob.objects.filter(pk=pk).update(file="")
        count += 1
    return count
