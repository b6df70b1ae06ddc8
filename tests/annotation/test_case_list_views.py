"""The case list answers the questions of issue 10 §6: each row's kind (real or phantom), the
model's pre-label and version (hidden from a role the study design keeps unaided), the
user's own read, the last change; the views "mine", "to do" and "done"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from annotation.models import (
    Case,
    CaseState,
    Claim,
    ClaimPurpose,
    Image,
    Read,
    ReadKind,
    Series,
    StudyDesign,
)
from annotation.models.reads import RevisionSource
from annotation.services.revisions import revision_create
from tests.factories import make_case

pytestmark = pytest.mark.django_db

SHAPE = {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}


def _rows(client: Any, slug: str, view: str = "") -> dict[int, dict[str, Any]]:
    reply = client.get(f"/api/projects/{slug}/cases", {"view": view} if view else {})
    assert reply.status_code == 200, reply.content
    return {row["id"]: row for row in reply.json()["results"]}


def _image(case: Case) -> Image:
    return Image.objects.filter(series__case=case).earliest("id")


def _model_read(case: Case, name: str = "model · sagittal #7") -> Read:
    read = Read.objects.create(case=case, kind=ReadKind.MODEL, name=name)
    revision_create(
        read=read,
        parent_id=None,
        shapes={str(_image(case).pk): [SHAPE]},
        source=RevisionSource.MODEL,
        message="pre-label",
    )
    return read


def _human_read(case: Case, user: Any, *, submitted: bool = False) -> Read:
    read = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=user)
    revision_create(read=read, parent_id=None, shapes={str(_image(case).pk): [SHAPE]}, author=user)
    if submitted:
        Read.objects.filter(pk=read.pk).update(submitted_at=timezone.now())
    return read


def test_a_row_says_real_or_phantom(clients, project) -> None:
    real = make_case(project=project)
    phantom = make_case(project=project)
    Series.objects.filter(case=phantom).update(source="phantom")
    rows = _rows(clients["annotator"], project.slug)
    assert rows[real.pk]["kind"] == "real"
    assert rows[phantom.pk]["kind"] == "phantom"


def test_a_phantom_imported_as_dicom_is_a_phantom(clients, project, tmp_path) -> None:
    """The demo's phantoms come in as DICOM files (fixtures/dicom_io.py): their headers say so."""
    from annotation.ingest import ingest_paths
    from fixtures.dicom_io import write_dicom
    from fixtures.phantom import make_phantom
    from fixtures.phantom_types import PhantomSpec

    write_dicom(make_phantom(PhantomSpec(seed=3)), tmp_path, patient_name="P^Q", patient_id="P-1")
    summary = ingest_paths(project=project, paths=[tmp_path])
    phantom_id = summary.cases[0].id
    real = make_case(project=project)  # a DICOM series whose header names no phantom
    rows = _rows(clients["annotator"], project.slug)
    assert rows[phantom_id]["kind"] == "phantom"
    assert rows[real.pk]["kind"] == "real"


def test_a_row_names_the_prelabel_model_version(clients, project) -> None:
    bare = make_case(project=project)
    labelled = make_case(project=project)
    _model_read(labelled)
    rows = _rows(clients["annotator"], project.slug)
    assert rows[bare.pk]["prelabel"] is None
    assert rows[labelled.pk]["prelabel"]["model"] == "sagittal #7"
    assert rows[labelled.pk]["prelabel"]["at"]


def test_an_unaided_role_is_not_told_about_the_prelabel(clients, project) -> None:
    labelled = make_case(project=project)
    _model_read(labelled)
    StudyDesign.objects.create(project=project, aided={"annotator": False, "reader": False})
    assert _rows(clients["annotator"], project.slug)[labelled.pk]["prelabel"] is None
    assert _rows(clients["lead"], project.slug)[labelled.pk]["prelabel"]["model"] == "sagittal #7"


def test_my_read_state_is_the_requesting_users(clients, cast, project) -> None:
    untouched, claimed, started, submitted = (make_case(project=project) for _ in range(4))
    Claim.objects.create(
        case=claimed,
        user=cast["annotator"],
        purpose=ClaimPurpose.ANNOTATE,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    _human_read(started, cast["annotator"])
    _human_read(submitted, cast["annotator"], submitted=True)
    rows = _rows(clients["annotator"], project.slug)
    assert rows[untouched.pk]["my_read"] == {"id": None, "state": "none", "revisions": 0}
    assert rows[claimed.pk]["my_read"]["state"] == "claimed"
    assert rows[started.pk]["my_read"]["state"] == "in_progress"
    assert rows[started.pk]["my_read"]["revisions"] == 1
    assert rows[submitted.pk]["my_read"]["state"] == "submitted"
    # Another member's list does not show the annotator's read as theirs.
    assert _rows(clients["reader"], project.slug)[started.pk]["my_read"]["state"] == "none"


def test_last_change_follows_the_latest_visible_revision(clients, cast, project) -> None:
    case = make_case(project=project)
    before = _rows(clients["lead"], project.slug)[case.pk]["last_change"]
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now() - timedelta(days=3))
    read = _human_read(case, cast["annotator"])
    rows = _rows(clients["lead"], project.slug)
    assert rows[case.pk]["last_change"] > before
    assert rows[case.pk]["last_change"] == read.revisions.get().created_at.isoformat()


def test_views_mine_todo_and_done_for_an_annotator(clients, cast, project) -> None:
    untouched, started, submitted, gold = (make_case(project=project) for _ in range(4))
    _human_read(started, cast["annotator"])
    _human_read(submitted, cast["annotator"], submitted=True)
    Case.objects.filter(pk=submitted.pk).update(state=CaseState.SUBMITTED)
    Case.objects.filter(pk=gold.pk).update(state=CaseState.GOLD)
    client = clients["annotator"]
    assert set(_rows(client, project.slug, "mine")) == {started.pk, submitted.pk}
    assert set(_rows(client, project.slug, "todo")) == {untouched.pk, started.pk}
    assert set(_rows(client, project.slug, "done")) == {submitted.pk}
    assert set(_rows(client, project.slug)) == {untouched.pk, started.pk, submitted.pk, gold.pk}


def test_views_todo_and_done_for_a_reviewer(clients, project) -> None:
    waiting, in_review, gold, new = (make_case(project=project) for _ in range(4))
    Case.objects.filter(pk=waiting.pk).update(state=CaseState.SUBMITTED)
    Case.objects.filter(pk=in_review.pk).update(state=CaseState.IN_REVIEW)
    Case.objects.filter(pk=gold.pk).update(state=CaseState.GOLD)
    client = clients["reviewer"]
    assert set(_rows(client, project.slug, "todo")) == {waiting.pk, in_review.pk}
    assert set(_rows(client, project.slug, "done")) == {gold.pk}
    assert new.pk not in _rows(client, project.slug, "todo")


def test_an_unknown_view_is_a_400_naming_the_field(clients, project) -> None:
    reply = clients["annotator"].get(f"/api/projects/{project.slug}/cases", {"view": "all-of-it"})
    assert reply.status_code == 400
    assert "view" in reply.json()


def test_the_page_keeps_the_view_in_its_links(clients, cast, project) -> None:
    case = make_case(project=project)
    _human_read(case, cast["annotator"])
    other = make_case(project=project)
    page = clients["annotator"].get(f"/projects/{project.slug}/?view=mine")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-case-id="{case.pk}"' in html
    assert f'data-case-id="{other.pk}"' not in html
    assert 'data-testid="view-mine" class="current"' in html
    assert 'name="view" value="mine"' in html
