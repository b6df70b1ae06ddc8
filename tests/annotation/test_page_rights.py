"""Pages show each role only the controls the permission module allows, and tell the
frontend the same through data attributes (the browser never decides rights by role name)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

MEMBERS = ["annotator", "reader", "reviewer", "lead"]


@pytest.mark.parametrize("who", MEMBERS)
def test_the_case_list_offers_import_settings_and_prelabel_by_right(clients, project, who) -> None:
    page = clients[who].get(f"/projects/{project.slug}/").content.decode()
    reviews = who in {"reviewer", "lead"}
    assert ('data-testid="import-link"' in page) is reviews
    assert ('data-testid="settings-link"' in page) is (who == "lead")
    assert ("data-may-prelabel" in page) is reviews


@pytest.mark.parametrize("who", MEMBERS)
def test_the_case_page_tells_the_frontend_whether_it_may_prelabel(clients, case, who) -> None:
    page = clients[who].get(f"/cases/{case.pk}/").content.decode()
    assert ("data-may-prelabel" in page) is (who != "reader")


@pytest.mark.parametrize("who", MEMBERS)
def test_the_project_list_offers_import_to_reviewers_and_leads(clients, project, who) -> None:
    page = clients[who].get("/").content.decode()
    assert (f'href="/projects/{project.slug}/import/"' in page) is (who in {"reviewer", "lead"})
