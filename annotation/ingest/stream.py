"""Ingest DICOM instances as they arrive (a PACS retrieve), without writing them to files
and reading them back.

Each instance is read from its bytes with the file import's reader (the same checks,
de-identification and pixel store), so parsing overlaps with the transfer of the next one
and pixels are hashed and written on the pixel writer's threads meanwhile. Instances are
held in a batch (a series) that is kept once it arrived whole or dropped when its transfer
broke: nothing of a dropped batch is stored, and pixel files that no committed row uses
are deleted when the stream closes. Studies are then stored as a file import stores them
(one transaction per study).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from annotation.ingest.dicom_read import DicomSlice, read_dicom
from annotation.ingest.dicom_series import DicomCollector
from annotation.ingest.pixelstore import PixelWriter
from annotation.ingest.service import _store, _temp_root
from annotation.ingest.types import ImportSummary, Refused
from annotation.models import Project


class _Pending:
    """One instance of the open batch: its slices or its refusal, and its bytes while it
    is the first instance of its series (the one whose header the series keeps)."""

    __slots__ = ("data", "file", "outcome")

    def __init__(self, file: str, outcome: list[DicomSlice] | Refused, data: bytes | None):
        self.file = file
        self.outcome = outcome
        self.data = data


class DicomStream:
    """``add`` instances, ``keep`` or ``drop`` each batch, then ``store``; close always."""

    def __init__(self, *, project: Project) -> None:
        self.project = project
        self.summary = ImportSummary()
        self._writer = PixelWriter()
        self._dicom = DicomCollector(salt=project.pseudonym_salt, writer=self._writer)
        self._pending: list[_Pending] = []
        self._first: dict[tuple[str, str], tuple[tuple[int, str], _Pending]] = {}
        # Holds the original files only where the project keeps them (originals_keep).
        self._workdir = Path(tempfile.mkdtemp(prefix="stream-", dir=_temp_root()))
        self._count = 0

    def __enter__(self) -> DicomStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add(self, data: bytes, *, file: str) -> None:
        """Read one instance (``file`` names it in refusals) into the open batch."""
        self._count += 1
        path = self._workdir / f"{self._count:06d}.dcm"
        if self.project.keep_original_files:
            path.write_bytes(data)
        outcome: list[DicomSlice] | Refused
        try:
            outcome = read_dicom(path, file=file, sink=self._writer, data=data)
        except Refused as refusal:
            outcome = refusal
        except Exception as exc:  # anything else is this instance's problem, not the import's
            outcome = Refused(f"could not be read ({type(exc).__name__})")
        pending = _Pending(file, outcome, None)
        self._pending.append(pending)
        if isinstance(outcome, Refused):
            return
        first = outcome[0]
        key, rank = (first.study_uid, first.series_uid), (first.instance_number, file)
        known = self._first.get(key)
        if known is None or rank < known[0]:
            if known is not None:
                known[1].data = None
            pending.data = data
            self._first[key] = (rank, pending)

    def keep(self) -> None:
        """The open batch arrived whole: it will be stored."""
        for pending in self._pending:
            if isinstance(pending.outcome, Refused):
                self.summary.skip(pending.file, pending.outcome.reason)
            else:
                self._dicom.add(pending.outcome, pending.data)
        self._pending.clear()
        self._first.clear()

    def drop(self) -> None:
        """The open batch did not arrive whole: nothing of it is stored."""
        self._pending.clear()
        self._first.clear()

    def store(self) -> ImportSummary:
        """Store the kept batches' studies; returns the summary of the whole stream."""
        self.drop()
        studies = self._dicom.studies()
        self.summary.skipped.extend(self._dicom.refused)
        self.summary.notes.extend(self._dicom.notes)
        for study in studies:
            _store(self.project, study, self._writer, self.summary)
        return self.summary

    def close(self) -> None:
        """Wait for queued pixel writes, delete uncommitted ones and the originals folder."""
        try:
            self._writer.close()
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)
