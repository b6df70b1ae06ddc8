"""The study design section of the lead's settings page: shows the splits, saves the design,
takes a split list and refuses a bad one by name."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from annotation.models import Case, Claim, Project, StudyDesign
from tests.annotation.workflow import bare_cases, member

pytestmark = pytest.mark.django_db


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": "design",
        "split_method": "ratio",
        "seed": "7",
        "ratio_train": "3",
        "ratio_tune": "1",
        "ratio_test": "1",
        "overlap_percent": "20",
        "reads_train_annotator": "1",
        "reads_train_reader": "0",
        "reads_tune_annotator": "1",
        "reads_tune_reader": "0",
        "reads_test_annotator": "1",
        "reads_test_reader": "1",
        "aided_annotator": "on",
        "aided_reviewer": "on",
        "aided_lead": "on",
    }
    data.update(changes)
    return data


def test_the_lead_sees_and_saves_the_study_design(
    project: Project, clients: dict[str, Client]
) -> None:
    bare_cases(project, 10)
    page = clients["lead"].get(f"/projects/{project.slug}/settings/")
    assert b'data-testid="design-form"' in page.content
    assert b"0 train" in page.content
    response = clients["lead"].post(f"/projects/{project.slug}/settings/", _form())
    assert response.status_code == 302
    design = StudyDesign.objects.get(project=project)
    assert (design.seed, design.ratio_train, design.overlap_percent) == (7, 3, 20)
    assert design.is_aided("reader") is False
    assert design.reads_required["test"] == {"annotator": 1, "reader": 1}
    splits = list(Case.objects.filter(project=project).values_list("split", flat=True))
    assert sorted(splits).count("train") == 6
    page = clients["lead"].get(f"/projects/{project.slug}/settings/")
    assert b"6 train \xc2\xb7 2 tune \xc2\xb7 2 test" in page.content


def test_a_design_with_every_ratio_zero_is_shown_back_with_the_error(
    project: Project, clients: dict[str, Client]
) -> None:
    zero = _form(ratio_train="0", ratio_tune="0", ratio_test="0")
    response = clients["lead"].post(f"/projects/{project.slug}/settings/", zero)
    assert response.status_code == 200
    assert b"At least one split needs a ratio above 0." in response.content
    assert not StudyDesign.objects.exists()


def test_the_lead_uploads_a_split_list_and_a_bad_one_is_refused_by_name(
    project: Project, clients: dict[str, Client]
) -> None:
    (case,) = bare_cases(project, 1)
    good = SimpleUploadedFile("s.csv", f"{case.pseudonym},test\n".encode())
    url = f"/projects/{project.slug}/settings/"
    response = clients["lead"].post(url, {"action": "splits", "file": good}, follow=True)
    assert b"1 cases changed split" in response.content
    assert Case.objects.get(pk=case.pk).split == "test"
    bad = SimpleUploadedFile("s.csv", b"NOPE-1,train\n")
    response = clients["lead"].post(url, {"action": "splits", "file": bad}, follow=True)
    assert b"NOPE-1" in response.content
    assert Case.objects.get(pk=case.pk).split == "test"


def test_only_the_lead_changes_the_design_on_the_page(
    project: Project, clients: dict[str, Client]
) -> None:
    response = clients["reviewer"].post(f"/projects/{project.slug}/settings/", _form())
    assert response.status_code == 403
    assert not StudyDesign.objects.exists()


def test_the_lead_releases_and_reassigns_claims_on_the_page(
    project: Project, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    (case,) = bare_cases(project, 1)
    clients["annotator"].post(f"/api/projects/{project.slug}/queue/next")
    claim = Claim.objects.get()
    url = f"/projects/{project.slug}/settings/"
    page = clients["lead"].get(url)
    assert f'data-claim-id="{claim.pk}"'.encode() in page.content
    other, _ = member(project, "annotator")
    body = {"action": "reassign", "claim": claim.pk, "user": other.pk}
    response = clients["lead"].post(url, body, follow=True)
    assert f"given to {other.username}".encode() in response.content
    live = Claim.objects.get(released_at=None)
    assert (live.user, live.slot, live.case) == (other, claim.slot, case)
    response = clients["lead"].post(url, {"action": "release", "claim": live.pk}, follow=True)
    assert b"released" in response.content
    assert not Claim.objects.filter(released_at=None).exists()
    response = clients["lead"].post(url, {"action": "release", "claim": live.pk}, follow=True)
    assert b"That claim has ended already." in response.content


def test_a_reassignment_to_a_reviewer_is_refused_on_the_page(
    project: Project, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    bare_cases(project, 1)
    clients["annotator"].post(f"/api/projects/{project.slug}/queue/next")
    claim = Claim.objects.get()
    body = {"action": "reassign", "claim": claim.pk, "user": cast["reviewer"].pk}
    response = clients["lead"].post(f"/projects/{project.slug}/settings/", body, follow=True)
    assert b"does not take annotate claims" in response.content
    assert Claim.objects.get(released_at=None) == claim
