"""Ingest: DICOM, NIfTI and labelme files into de-identified cases (see service.py)."""

from annotation.ingest.service import ingest_paths, ingest_uploaded_files
from annotation.ingest.types import ImportedCase, ImportSummary, SkippedFile

__all__ = ["ImportSummary", "ImportedCase", "SkippedFile", "ingest_paths", "ingest_uploaded_files"]
