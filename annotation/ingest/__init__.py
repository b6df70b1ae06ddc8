"""Ingest: DICOM, NIfTI and labelme files into de-identified cases (see service.py).

The service is imported on first use: worker processes import the readers of this package
without Django's app registry, which the service's models need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from annotation.ingest.types import ImportedCase, ImportSummary, SkippedFile

if TYPE_CHECKING:
    from annotation.ingest.service import ingest_paths, ingest_uploaded_files

__all__ = ["ImportSummary", "ImportedCase", "SkippedFile", "ingest_paths", "ingest_uploaded_files"]


def __getattr__(name: str) -> Any:
    if name in {"ingest_paths", "ingest_uploaded_files"}:
        from annotation.ingest import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
