"""The upload API: who may import, what it answers, and that uploads leave no files behind."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIRequestFactory, force_authenticate

from annotation.apis.imports import ImportCreateApi
from annotation.models import Case, Project

pytestmark = pytest.mark.django_db


def _post(user: AbstractBaseUser | None, slug: str, files: list[SimpleUploadedFile]):
    request = APIRequestFactory().post(
        f"/api/projects/{slug}/imports", {"files": files}, format="multipart"
    )
    if user is not None:
        force_authenticate(request, user=user)
    return ImportCreateApi.as_view()(request, slug=slug)


def _uploads(paths: list[Path]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(p.name, p.read_bytes()) for p in paths]


def _temp_files() -> list[Path]:
    root = Path(settings.DATA_DIR) / "tmp"
    return list(root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize(
    ("who", "expected"),
    [("outsider", 404), ("annotator", 403), ("reader", 403), ("reviewer", 201), ("lead", 201)],
)
def test_only_leads_and_reviewers_may_import(
    project: Project, cast, tmp_path: Path, *, write_series, who: str, expected: int
) -> None:
    paths = write_series(tmp_path, slices=2)

    response = _post(cast[who], project.slug, _uploads(paths))

    assert response.status_code == expected
    assert Case.objects.count() == (1 if expected == 201 else 0)


def test_an_anonymous_upload_is_refused(project: Project) -> None:
    response = _post(None, project.slug, [SimpleUploadedFile("a.dcm", b"x")])
    assert response.status_code in {401, 403}


def test_it_answers_201_with_the_summary(
    project: Project, cast, tmp_path: Path, write_series
) -> None:
    paths = write_series(tmp_path, slices=3)
    junk = SimpleUploadedFile("junk.dcm", b"not dicom")

    response = _post(cast["lead"], project.slug, [*_uploads(paths), junk])

    assert response.status_code == 201
    body = response.data
    assert body["cases"] == [
        {
            "id": Case.objects.get().pk,
            "pseudonym": "CASE-0001",
            "created": True,
            "outcome": "new",
            "series": 1,
            "images": 3,
            "reads": 0,
        }
    ]
    assert (body["series"], body["images"]) == (1, 3)
    assert body["skipped"] == [
        {"file": "junk.dcm", "reason": "not a DICOM file (no DICM prefix in the file meta)"}
    ]
    assert _temp_files() == []


def test_a_study_imported_again_is_a_duplicate_with_nothing_new(
    project: Project, cast, tmp_path: Path, write_series
) -> None:
    paths = write_series(tmp_path, slices=2)
    first = _post(cast["lead"], project.slug, _uploads(paths))
    assert first.data["cases"][0]["outcome"] == "new"

    again = _post(cast["lead"], project.slug, _uploads(paths))

    assert again.status_code == 201
    case = again.data["cases"][0]
    assert (case["pseudonym"], case["created"], case["outcome"]) == (
        "CASE-0001",
        False,
        "duplicate",
    )
    assert (case["series"], case["images"], case["reads"]) == (0, 0, 0)
    assert Case.objects.count() == 1


def test_a_zip_upload_is_imported(project: Project, cast, tmp_path: Path, write_series) -> None:
    paths = write_series(tmp_path / "s", slices=2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in paths:
            archive.writestr(f"study/{path.name}", path.read_bytes())

    response = _post(
        cast["lead"], project.slug, [SimpleUploadedFile("study.zip", buffer.getvalue())]
    )

    assert response.status_code == 201
    assert response.data["images"] == 2


def test_it_answers_400_with_the_refused_files_when_nothing_was_imported(
    project: Project, cast
) -> None:
    response = _post(
        cast["lead"],
        project.slug,
        [SimpleUploadedFile("empty.dcm", b""), SimpleUploadedFile("x.txt", b"hello")],
    )

    assert response.status_code == 400
    assert {s["file"] for s in response.data["skipped"]} == {"empty.dcm", "x.txt"}
    assert response.data["cases"] == []
    assert _temp_files() == []


def test_it_needs_at_least_one_file(project: Project, cast) -> None:
    response = _post(cast["lead"], project.slug, [])
    assert response.status_code == 400
    assert "files" in response.data
