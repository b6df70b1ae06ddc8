"""Fixtures of the inference tests: a phantom case imported through the real ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotation.models import Case, Project


@pytest.fixture
def phantom_case(project: Project, tmp_path: Path) -> Case:
    from annotation.ingest import ingest_paths
    from fixtures.phantom import make_phantom, write_dicom
    from fixtures.phantom_types import PhantomSpec

    folder = tmp_path / "study"
    write_dicom(make_phantom(PhantomSpec(seed=11, compression_level="C5")), folder)
    summary = ingest_paths(project=project, paths=[folder])
    return Case.objects.get(pk=summary.cases[0].id)
