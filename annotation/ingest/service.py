"""Import files into a project: the entry point of the CLI and of the upload API.

Every file is read and checked first; refused files are listed with their reason and the
rest go on. Each study is then written in its own transaction; pixel files of anything
not committed are deleted, and temporary folders are always removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError

from annotation.ingest.dicom_series import DicomCollector
from annotation.ingest.dicom_worker import read_dicom_files
from annotation.ingest.files import InputFile, collect
from annotation.ingest.labelme import LabelmeCollector
from annotation.ingest.nifti import group_nifti, plan_nifti
from annotation.ingest.pixelstore import PixelWriter
from annotation.ingest.store import StoredStudy, originals_keep, study_store
from annotation.ingest.types import (
    CaseAdditions,
    ImportedCase,
    ImportSummary,
    PlannedStudy,
    Refused,
)
from annotation.models import Project

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def _temp_root() -> Path:
    root = Path(settings.DATA_DIR) / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self._progress = progress
        if progress is not None:
            progress(0, total)

    def step(self, count: int = 1) -> None:
        self.done += count
        if self._progress is not None:
            self._progress(min(self.done, self.total), self.total)


def ingest_paths(
    *, project: Project, paths: list[Path], progress: Progress | None = None
) -> ImportSummary:
    """Import DICOM files, folders and zips, NIfTI volumes (with masks) and labelme folders.

    ``progress(done, total)`` counts input files (after folders and zips are expanded).
    Files are named in the summary as the caller gave them.
    """
    return _ingest(project=project, items=[(Path(p), str(p)) for p in paths], progress=progress)


def ingest_uploaded_files(
    *, project: Project, files: list[UploadedFile], progress: Progress | None = None
) -> ImportSummary:
    """Write the uploads to a private temporary folder, import them, always clean up."""
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=_temp_root()))
    try:
        items: list[tuple[Path, str]] = []
        total = 0
        for index, upload in enumerate(files):
            name = PurePosixPath((upload.name or "").replace("\\", "/")).name.strip()
            if name in {"", ".", ".."}:
                name = f"file-{index + 1}"
            target = folder / name
            if target.exists():
                target = folder / f"upload-{index + 1}" / name
                target.parent.mkdir()
            with target.open("xb") as sink:
                for chunk in upload.chunks():
                    total += len(chunk)
                    sink.write(chunk)
            items.append((target, name))
        if total > settings.INGEST_MAX_UPLOAD_BYTES:
            summary = ImportSummary()
            limit = settings.INGEST_MAX_UPLOAD_BYTES
            for _path, name in items:
                summary.skip(name, f"the upload is above {limit} bytes (INGEST_MAX_UPLOAD_BYTES)")
            return summary
        return _ingest(project=project, items=items, progress=progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _ingest(
    *, project: Project, items: list[tuple[Path, str]], progress: Progress | None
) -> ImportSummary:
    summary = ImportSummary()
    workdir = Path(tempfile.mkdtemp(prefix="ingest-", dir=_temp_root()))
    try:
        with PixelWriter() as writer:
            collected = collect(items, workdir=workdir)
            summary.skipped.extend(collected.skipped)
            if collected.ignored:
                summary.notes.append(
                    f"{collected.ignored} hidden or system files ignored (DICOMDIR, .DS_Store, ...)"
                )
            counter = _Counter(len(collected.files), progress)
            studies = _read_all(project, collected.files, writer, summary, counter)
            for study in studies:
                _store(project, study, writer, summary)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    logger.info(
        "import into project %s: %d cases, %d series, %d images, %d files refused",
        project.slug,
        len(summary.cases),
        summary.series,
        summary.images,
        len(summary.skipped),
    )
    return summary


def _read_all(
    project: Project,
    files: list[InputFile],
    writer: PixelWriter,
    summary: ImportSummary,
    counter: _Counter,
) -> list[PlannedStudy]:
    by_kind: dict[str, list[InputFile]] = {"dicom": [], "nifti": [], "json": [], "image": []}
    for item in files:
        by_kind[item.kind].append(item)
    dicom = _read_dicom(project, by_kind["dicom"], writer, summary, counter)
    nifti_studies = _plan_niftis(project, by_kind["nifti"], writer, summary, counter)
    labelme = LabelmeCollector(
        salt=project.pseudonym_salt,
        writer=writer,
        template=project.template,
        files={os.path.normpath(f.path): f for f in files},
        dicom_keys=dicom.keys_by_path,
    )
    for item in by_kind["json"]:
        try:
            labelme.add(item)
        except Refused as refusal:
            summary.skip(item.file, refusal.reason)
        counter.step()
    for item in by_kind["image"]:
        if item.path not in labelme.used_images:
            summary.skip(item.file, "an image without a labelme JSON naming it")
        counter.step()
    dicom_studies = _dicom_studies(dicom, labelme, summary)
    return dicom_studies + nifti_studies + labelme.studies()


def _read_dicom(
    project: Project,
    files: list[InputFile],
    writer: PixelWriter,
    summary: ImportSummary,
    counter: _Counter,
) -> DicomCollector:
    dicom = DicomCollector(salt=project.pseudonym_salt, writer=writer)
    for item, outcome in read_dicom_files(files, writer=writer):
        if isinstance(outcome, Refused):
            summary.skip(item.file, outcome.reason)
        else:
            dicom.add(outcome)
        counter.step()
    return dicom


def _plan_niftis(
    project: Project,
    files: list[InputFile],
    writer: PixelWriter,
    summary: ImportSummary,
    counter: _Counter,
) -> list[PlannedStudy]:
    studies: list[PlannedStudy] = []
    groups = group_nifti(files)
    summary.skipped.extend(groups.skipped)
    summary.notes.extend(groups.notes)
    counter.step(len(files) - len(groups.volumes) - sum(map(len, groups.masks.values())))
    for item in groups.volumes:
        masks = groups.masks.pop(item.path, [])
        try:
            study, refused_masks = plan_nifti(
                item, masks, salt=project.pseudonym_salt, writer=writer
            )
            studies.append(study)
            summary.skipped.extend(refused_masks)
        except Refused as refusal:
            summary.skip(item.file, refusal.reason)
            for mask, _label, _name in masks:
                summary.skip(mask.file, f"its volume {item.file} was refused")
        counter.step(1 + len(masks))
    return studies


def _dicom_studies(
    dicom: DicomCollector, labelme: LabelmeCollector, summary: ImportSummary
) -> list[PlannedStudy]:
    """The DICOM studies with the labelme reads that name their images attached."""
    dicom_studies = dicom.studies()
    summary.skipped.extend(dicom.refused)
    summary.notes.extend(dicom.notes + labelme.notes)
    planned_keys = {
        (s.identity, i.key) for s in dicom_studies for ser in s.series for i in ser.images
    }
    for json_file, study_uid, key in labelme.dicom_links:
        if (study_uid, key) not in planned_keys:
            summary.skip(json_file, "its DICOM image was refused")
    for study in dicom_studies:
        read = labelme.dicom_reads.pop(study.identity, None)
        if read is not None:
            study.reads.append(read)
    return dicom_studies


def _store(
    project: Project, study: PlannedStudy, writer: PixelWriter, summary: ImportSummary
) -> None:
    stored: StoredStudy | None = None
    for attempt in range(3):
        try:
            stored = study_store(project=project, study=study)
            break
        except IntegrityError:
            # A concurrent import created the same case or series first: look again.
            if attempt == 2:
                break
        except DatabaseError as exc:
            logger.exception("import: a study could not be stored")
            for file in study.files:
                summary.skip(file, f"could not be stored ({type(exc).__name__})")
            return
    if stored is None:
        for file in study.files:
            summary.skip(file, "could not be stored (concurrent imports of the same study)")
        return
    writer.commit(stored.pixel_paths)
    summary.cases.append(ImportedCase(stored.case_id, stored.pseudonym, stored.created))
    before = summary.additions.get(stored.case_id, CaseAdditions())
    summary.additions[stored.case_id] = before.plus(stored.series, stored.images, stored.reads)
    summary.series += stored.series
    summary.images += stored.images
    summary.notes.extend(stored.notes)
    if stored.series == 0 and stored.reads == 0 and not stored.created:
        summary.notes.append(f"{study.label}: already imported as {stored.pseudonym}")
    if project.keep_original_files and study.originals:
        try:
            originals_keep(project=project, pseudonym=stored.pseudonym, study=study)
        except OSError as exc:
            summary.notes.append(
                f"{study.label}: original files could not be kept ({exc.strerror or 'I/O error'})"
            )
