"""Records passed between the ingest stages: parsed studies ready to store, and the summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple


class Refused(Exception):  # noqa: N818 - a refusal is an expected outcome, not an error
    """One input file (or a whole group of them) cannot be imported; ``reason`` says why.

    Reasons are shown to the user beside the file name, so they must never quote header
    values (names, IDs, dates): only sizes, counts, tags and transfer syntaxes.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImportedCase(NamedTuple):
    id: int
    pseudonym: str
    created: bool


class CaseAdditions(NamedTuple):
    """What an import added to one case: series, images, imported reads (new or revised)."""

    series: int = 0
    images: int = 0
    reads: int = 0

    def plus(self, series: int, images: int, reads: int) -> CaseAdditions:
        return CaseAdditions(self.series + series, self.images + images, self.reads + reads)


def import_outcome(case: ImportedCase, added: CaseAdditions) -> str:
    """new (the case was created), added (to an existing case), or duplicate (the study was
    already there: nothing new)."""
    if case.created:
        return "new"
    return "added" if any(added) else "duplicate"


class SkippedFile(NamedTuple):
    file: str
    reason: str


@dataclass
class ImportSummary:
    cases: list[ImportedCase] = field(default_factory=list)
    series: int = 0
    images: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Per case id: what this import added to it (the outcome of each listed case).
    additions: dict[int, CaseAdditions] = field(default_factory=dict)

    def skip(self, file: str, reason: str) -> None:
        self.skipped.append(SkippedFile(file, reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": [self._case_dict(c) for c in self.cases],
            "series": self.series,
            "images": self.images,
            "skipped": [{"file": s.file, "reason": s.reason} for s in self.skipped],
            "notes": list(self.notes),
        }

    def _case_dict(self, case: ImportedCase) -> dict[str, Any]:
        row: dict[str, Any] = {"id": case.id, "pseudonym": case.pseudonym, "created": case.created}
        added = self.additions.get(case.id)
        if added is not None:  # a summary assembled from others' cases may not know
            row.update(
                outcome=import_outcome(case, added),
                series=added.series,
                images=added.images,
                reads=added.reads,
            )
        return row


@dataclass
class PlannedImage:
    """One slice whose pixels are already in the pixel store (see ingest.pixelstore)."""

    key: str  # identifies the slice inside its study, for attaching imported shapes
    uid: str  # replacement UID
    position: float
    image_position: list[float]
    pixel_path: str
    sha256: str
    min_value: float
    max_value: float


@dataclass
class PlannedSeries:
    uid: str
    number: int
    description: str
    orientation: str
    modality: str
    source: str
    rows: int
    columns: int
    pixel_spacing_row: float
    pixel_spacing_col: float
    spacing_known: bool
    slice_thickness: float | None
    slice_spacing: float | None
    row_direction: list[float]
    column_direction: list[float]
    dtype: str
    window_center: float
    window_width: float
    header: dict[str, Any]
    thumbnail: bytes
    images: list[PlannedImage]  # in index order


@dataclass
class PlannedRead:
    """Shapes that came with the data; ``shapes`` is keyed by PlannedImage.key."""

    name: str
    shapes: dict[str, list[dict[str, Any]]]
    case_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlannedStudy:
    identity: str  # StudyInstanceUID, or a file's sha256 for NIfTI and labelme
    label: str  # how messages name it: a file or folder as the user gave it
    series: list[PlannedSeries]
    reads: list[PlannedRead] = field(default_factory=list)
    # (original file, name to keep it under) for Project.keep_original_files.
    originals: list[tuple[Path, str]] = field(default_factory=list)
    # The files this study came from, as displayed; refused together if the study fails.
    files: list[str] = field(default_factory=list)
