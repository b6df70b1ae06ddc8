"""Export formats: the writer protocol and the registry (format name -> writer).

A format is a module of this package that defines ``FORMAT = FormatSpec(...)``. The export
task opens one writer per format on its own output folder, streams every case through
``write_case`` (one ``CaseBundle`` at a time, so memory stays flat in the number of
cases), then calls ``close``, which writes whatever summarises the whole export (a COCO
file's image and annotation lists, an index). Everything a writer writes lies under its
folder; the task zips the folders once all writers closed. A writer raises
``ExportFormatError`` for a case it cannot write; the task then fails the export with
the message (no half-written archive is kept).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from exports.bundle import CaseBundle, ExportContext


class ExportFormatError(Exception):
    """A case cannot be written in this format; the message names the case and why."""


class CaseWriter(Protocol):
    def write_case(self, case: CaseBundle) -> None:
        """Write one case's files under the writer's folder."""

    def close(self) -> None:
        """Finish the export (summary files); called once after the last case."""


# (folder, context) -> writer. The folder exists and is empty.
WriterFactory = Callable[[Path, ExportContext], CaseWriter]


@dataclass(frozen=True)
class FormatSpec:
    name: str  # the API's format name, also the folder inside the zip
    title: str  # shown on the exports page
    open: WriterFactory


# Format name -> module of this package. A module that does not exist (yet) is simply not
# offered; any other import error is a bug and propagates.
_MODULES = {
    "labelme": "labelme",
    "coco": "coco",
    "nifti": "nifti",
    "csv": "csv_measurements",
    "dicom_seg": "dicom_seg",
    "dicom_sr": "dicom_sr",
}


def _load(name: str) -> FormatSpec | None:
    module_name = f"{__name__}.{_MODULES[name]}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    spec = getattr(module, "FORMAT", None)
    if not isinstance(spec, FormatSpec) or spec.name != name:
        raise RuntimeError(f"{module_name} must define FORMAT = FormatSpec(name={name!r}, ...)")
    return spec


def formats_registered() -> dict[str, FormatSpec]:
    """Every available format by name, in a stable order."""
    found = {name: _load(name) for name in _MODULES}
    return {name: spec for name, spec in found.items() if spec is not None}


def format_get(name: str) -> FormatSpec | None:
    return _load(name) if name in _MODULES else None
