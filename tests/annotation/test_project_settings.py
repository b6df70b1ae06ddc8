"""The lead's project settings page: settings and members; nobody else may change them."""

from __future__ import annotations

import pytest

from annotation.models import Membership, Project

pytestmark = pytest.mark.django_db


def test_the_lead_turns_on_keeping_originals_and_off_prelabelling(clients, project) -> None:
    url = f"/projects/{project.slug}/settings/"
    assert clients["lead"].get(url).status_code == 200
    response = clients["lead"].post(
        url,
        {
            "action": "settings",
            "name": "Renamed study",
            "description": "",
            "blinded": "on",
            "keep_original_files": "on",
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "Renamed study"
    assert project.keep_original_files is True
    assert project.prelabel_on_import is False
    assert project.blinded is True


def test_the_lead_adds_a_member_and_an_unknown_user_is_named(clients, cast, project) -> None:
    url = f"/projects/{project.slug}/settings/"
    response = clients["lead"].post(
        url, {"action": "member", "username": "outsider", "role": "reader"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(project=project, user=cast["outsider"]).role == "reader"
    bad = clients["lead"].post(url, {"action": "member", "username": "nobody", "role": "reader"})
    assert bad.status_code == 200
    assert b"no user named" in bad.content


@pytest.mark.parametrize(
    ("who", "status"), [("annotator", 403), ("reviewer", 403), ("outsider", 404)]
)
def test_others_cannot_open_or_change_the_settings(clients, project, who, status) -> None:
    url = f"/projects/{project.slug}/settings/"
    assert clients[who].get(url).status_code == status
    clients[who].post(url, {"action": "settings", "name": "Hijacked", "keep_original_files": "on"})
    assert Project.objects.get(pk=project.pk).name != "Hijacked"


def test_the_lead_removes_a_member_but_not_themselves(clients, cast, project) -> None:
    url = f"/projects/{project.slug}/settings/"
    page = clients["lead"].get(url)
    assert b'data-testid="member-remove-reader"' in page.content
    assert b'data-testid="member-remove-lead"' not in page.content
    response = clients["lead"].post(url, {"action": "remove", "username": "reader"}, follow=True)
    assert b"reader removed from the project" in response.content
    assert not Membership.objects.filter(project=project, user=cast["reader"]).exists()
    # The removed reader is an outsider now.
    assert clients["reader"].get(f"/api/projects/{project.slug}").status_code == 404
    refused = clients["lead"].post(url, {"action": "remove", "username": "lead"}, follow=True)
    assert b"cannot remove yourself" in refused.content
    assert Membership.objects.filter(project=project, user=cast["lead"]).exists()


def test_only_the_lead_removes_members(clients, cast, project) -> None:
    url = f"/projects/{project.slug}/settings/"
    assert (
        clients["reviewer"].post(url, {"action": "remove", "username": "reader"}).status_code == 403
    )
    assert Membership.objects.filter(project=project, user=cast["reader"]).exists()
