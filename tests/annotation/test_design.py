"""The study design: the lead splits cases by a seeded ratio or an uploaded list, chooses
overlap cases from the seed, and keeps roles unaided; the server enforces it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotation.models import Case, Project, Read, ReadKind, StudyDesign
from annotation.services.revisions import revision_create
from tests.annotation.workflow import bare_cases
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def _design(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "seed": 3,
        "ratios": {"train": 8, "tune": 1, "test": 1},
        "reads_required": {
            "train": {"annotator": 1},
            "tune": {"annotator": 1},
            "test": {"annotator": 1, "reader": 1},
        },
        "overlap_percent": 10,
        "aided": {"annotator": True, "reader": False},
    }
    body.update(changes)
    return body


def _put(client: Client, project: Project, body: dict[str, Any]) -> Any:
    return client.put(f"/api/projects/{project.slug}/design", body, content_type="application/json")


def _splits(project: Project) -> dict[str, tuple[str, bool]]:
    return {c.pseudonym: (c.split, c.overlap) for c in Case.objects.filter(project=project)}


def test_the_lead_splits_by_ratio_exactly_and_deterministically(
    project: Project, clients: dict[str, Client]
) -> None:
    bare_cases(project, 20)
    response = _put(clients["lead"], project, _design())
    assert response.status_code == 200, response.content
    assert response.json()["counts"] == {
        "train": 16, "tune": 2, "test": 2, "unassigned": 0, "overlap": 2,
    }  # fmt: skip
    first = _splits(project)
    assert Counter(split for split, _ in first.values()) == {"train": 16, "tune": 2, "test": 2}
    _put(clients["lead"], project, _design(seed=4))
    assert _splits(project) != first
    _put(clients["lead"], project, _design())
    assert _splits(project) == first


def test_reviewers_read_the_design_and_only_the_lead_changes_it(
    project: Project, clients: dict[str, Client]
) -> None:
    reply = clients["reviewer"].get(f"/api/projects/{project.slug}/design")
    assert reply.status_code == 200
    assert reply.json()["ratios"] == {"train": 8, "tune": 1, "test": 1}
    assert reply.json()["aided"]["reader"] is True
    assert clients["annotator"].get(f"/api/projects/{project.slug}/design").status_code == 403
    assert _put(clients["reviewer"], project, _design()).status_code == 403
    assert not StudyDesign.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ratios": {"train": 0, "tune": 0, "test": 0}}, "ratios"),
        ({"reads_required": {"train": {"reviewer": 1}}}, "reads_required"),
        ({"reads_required": {"holdout": {"annotator": 1}}}, "reads_required"),
        ({"reads_required": {"train": {"annotator": 9}}}, "reads_required"),
        ({"overlap_percent": 101}, "overlap_percent"),
        ({"aided": {"chief": True}}, "aided"),
    ],
)
def test_a_bad_design_is_refused_by_field_and_nothing_changes(
    project: Project, clients: dict[str, Client], changes: dict[str, Any], field: str
) -> None:
    bare_cases(project, 5)
    before = _splits(project)
    response = _put(clients["lead"], project, _design(**changes))
    assert response.status_code == 400
    assert field in response.json()
    assert _splits(project) == before
    assert not StudyDesign.objects.exists()


def test_an_uploaded_list_sets_the_splits(project: Project, clients: dict[str, Client]) -> None:
    a, b, c = bare_cases(project, 3)
    text = f"pseudonym,split\n{a.pseudonym},test\n{b.pseudonym},TUNE\n"
    response = clients["lead"].post(
        f"/api/projects/{project.slug}/design/splits",
        {"csv": text},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["split_method"] == "list"
    splits = {k: v[0] for k, v in _splits(project).items()}
    assert splits == {a.pseudonym: "test", b.pseudonym: "tune", c.pseudonym: ""}


def test_an_uploaded_file_with_unknown_pseudonyms_is_refused_by_name(
    project: Project, clients: dict[str, Client]
) -> None:
    (a,) = bare_cases(project, 1)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("splits.csv", f"{a.pseudonym},test\nCASE-9999,train\n".encode())
    response = clients["lead"].post(f"/api/projects/{project.slug}/design/splits", {"file": upload})
    assert response.status_code == 400
    assert "CASE-9999" in response.json()["detail"]
    assert response.json()["unknown"] == ["CASE-9999"]
    assert Case.objects.get(pk=a.pk).split == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [("X,holdout\n", "unknown split 'holdout'"), ("a,b,c\n", "expected"), (",\n", "names no case")],
)
def test_a_malformed_list_is_refused_naming_the_line(
    project: Project, clients: dict[str, Client], text: str, message: str
) -> None:
    bare_cases(project, 1)
    response = clients["lead"].post(
        f"/api/projects/{project.slug}/design/splits",
        {"csv": text},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]


def _model_read(case: Case) -> Read:
    image = case.series.first().images.first()  # type: ignore[union-attr]
    read = Read.objects.create(case=case, kind=ReadKind.MODEL, name="model")
    shape = {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}
    revision_create(read=read, parent_id=None, shapes={str(image.pk): [shape]})  # type: ignore[union-attr]
    return read


def test_an_unaided_role_neither_sees_nor_starts_from_the_model_read(
    project: Project, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    case = make_case(project=project)
    model = _model_read(case)
    _put(clients["lead"], project, _design(aided={"annotator": False, "reader": False}))
    for who in ("annotator", "reader"):
        client = clients[who]
        assert client.get(f"/api/reads/{model.pk}").status_code == 404
        mine = client.post(f"/api/cases/{case.pk}/reads").json()
        assert mine["revision_count"] == 0
        kinds = [r["kind"] for r in client.get(f"/api/cases/{case.pk}/reads").json()]
        assert kinds == ["human"]
    assert clients["reviewer"].get(f"/api/reads/{model.pk}").status_code == 200


def test_an_aided_role_sees_and_starts_from_the_model_read(
    project: Project, clients: dict[str, Client]
) -> None:
    case = make_case(project=project)
    model = _model_read(case)
    assert clients["annotator"].get(f"/api/reads/{model.pk}").status_code == 200
    mine = clients["annotator"].post(f"/api/cases/{case.pk}/reads").json()
    assert mine["revision_count"] == 1


def test_an_unaided_role_s_sockets_drop_model_read_events(
    project: Project, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    from annotation.consumers import rights_load
    from annotation.permissions import event_visible_to

    _put(clients["lead"], project, _design(aided={"annotator": False}))
    event = {"type": "revision.saved", "read": 1, "read_kind": "model", "read_author": None}
    for who, gets_it in (("annotator", False), ("reader", True), ("reviewer", True)):
        rights = rights_load(user_id=cast[who].pk, project_id=project.pk)
        assert rights.unaided is not gets_it
        seen = event_visible_to(
            event=event,
            user_id=rights.user_id,
            role=rights.role,
            blinded=rights.blinded,
            unaided=rights.unaided,
        )
        assert seen is gets_it, who
