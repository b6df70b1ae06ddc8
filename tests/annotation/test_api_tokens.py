"""Personal API tokens (annotation.services.tokens, annotation.authentication): created and
revoked from a session, stored as digests, shown once, acting as their user and only in the
projects they are limited to."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from annotation.models import ApiToken, Project, Read, ReadKind
from annotation.services.projects import membership_set, project_create
from annotation.services.tokens import LAST_USED_RESOLUTION

pytestmark = pytest.mark.django_db


def _create(client: Client, **body: object) -> dict[str, Any]:
    response = client.post("/api/me/tokens", body, content_type="application/json")
    assert response.status_code == 201, response.content
    reply: dict[str, Any] = response.json()
    return reply


def _bearer(token: object) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_new_token_is_shown_once_and_stored_only_as_its_digest(clients, cast) -> None:
    reply = _create(clients["annotator"], name="laptop script")
    secret = str(reply["token"])
    assert secret.startswith("sl_")
    assert len(secret) > 40
    stored = ApiToken.objects.get(pk=reply["id"])
    assert stored.digest != secret
    assert secret not in (stored.digest, stored.prefix)
    assert secret.startswith(stored.prefix)
    assert len(stored.prefix) < 16
    listed = clients["annotator"].get("/api/me/tokens").json()
    assert [t["name"] for t in listed] == ["laptop script"]
    assert "token" not in listed[0]
    assert listed[0]["prefix"] == stored.prefix
    assert listed[0]["last_used_at"] is None
    assert listed[0]["projects"] == []


def test_a_token_acts_as_its_user_without_csrf(clients, cast, case) -> None:
    secret = _create(clients["reader"], name="r")["token"]
    me = _bearer(secret).get("/api/me").json()
    assert me["username"] == "reader"
    assert me["memberships"] == [{"project": "cervical", "role": "reader"}]
    # A write with no CSRF token: tokens are not cookies, CSRF does not apply.
    strict = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = strict.post(f"/api/cases/{case.pk}/comments", {"body": "C5?"}, "application/json")
    assert response.status_code == 201, response.content
    assert response.json()["author"]["username"] == "reader"
    # Its role's limits hold: a reader may not import.
    assert _bearer(secret).post("/api/projects/cervical/imports", {}).status_code == 403


def test_a_token_limited_to_a_project_is_an_outsider_elsewhere(clients, cast, case) -> None:
    other = project_create(slug="lumbar", name="Lumbar study")
    membership_set(project=other, user=cast["lead"], role="lead")
    secret = _create(clients["lead"], name="lumbar only", projects=["lumbar"])["token"]
    client = _bearer(secret)
    assert [p["slug"] for p in client.get("/api/projects").json()] == ["lumbar"]
    assert [m["project"] for m in client.get("/api/me").json()["memberships"]] == ["lumbar"]
    assert client.get("/api/projects/lumbar").status_code == 200
    assert client.get("/api/projects/cervical").status_code == 404
    assert client.get(f"/api/cases/{case.pk}").status_code == 404
    image = case.series.first().images.first()
    assert client.get(f"/api/images/{image.pk}/pixels").status_code == 404
    # The session of the same user still reaches both.
    assert clients["lead"].get(f"/api/cases/{case.pk}").status_code == 200
    assert clients["lead"].get(f"/api/images/{image.pk}/pixels").status_code == 200


def test_a_token_may_be_limited_only_to_the_users_projects(clients, cast) -> None:
    project_create(slug="secret-study", name="Not mine")
    response = clients["annotator"].post(
        "/api/me/tokens",
        {"name": "x", "projects": ["cervical", "secret-study"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "secret-study" in response.json()["projects"][0]
    blank = clients["annotator"].post("/api/me/tokens", {"name": " "}, "application/json")
    assert blank.status_code == 400
    assert "name" in blank.json()
    assert not ApiToken.objects.exists()


def test_a_revoked_or_unknown_token_gets_401_and_anonymous_stays_403(clients, cast) -> None:
    reply = _create(clients["annotator"], name="old")
    assert _bearer(reply["token"]).get("/api/me").status_code == 200
    assert clients["reader"].delete(f"/api/me/tokens/{reply['id']}").status_code == 404
    assert clients["annotator"].delete(f"/api/me/tokens/{reply['id']}").status_code == 204
    revoked = _bearer(reply["token"]).get("/api/me")
    assert revoked.status_code == 401
    assert revoked["WWW-Authenticate"].startswith("Bearer")
    assert _bearer("sl_" + "x" * 43).get("/api/me").status_code == 401
    assert _bearer("").get("/api/me").status_code == 401
    assert Client().get("/api/me").status_code == 403
    assert clients["annotator"].get("/api/me/tokens").json() == []
    assert clients["annotator"].delete(f"/api/me/tokens/{reply['id']}").status_code == 404


def test_a_token_cannot_manage_tokens(clients, cast) -> None:
    secret = _create(clients["annotator"], name="script")["token"]
    client = _bearer(secret)
    assert client.get("/api/me/tokens").status_code == 403
    created = client.post("/api/me/tokens", {"name": "escalate"}, "application/json")
    assert created.status_code == 403
    assert ApiToken.objects.count() == 1


def test_last_use_is_recorded_at_most_once_a_minute(clients, cast) -> None:
    reply = _create(clients["annotator"], name="n")
    _bearer(reply["token"]).get("/api/me")
    first = ApiToken.objects.get(pk=reply["id"]).last_used_at
    assert first is not None
    _bearer(reply["token"]).get("/api/me")
    assert ApiToken.objects.get(pk=reply["id"]).last_used_at == first
    earlier = timezone.now() - LAST_USED_RESOLUTION - datetime.timedelta(seconds=1)
    ApiToken.objects.filter(pk=reply["id"]).update(last_used_at=earlier)
    _bearer(reply["token"]).get("/api/me")
    later = ApiToken.objects.get(pk=reply["id"]).last_used_at
    assert later is not None
    assert later > earlier
    listed = clients["annotator"].get("/api/me/tokens").json()
    assert listed[0]["last_used_at"] is not None


def test_a_deactivated_user_s_token_stops_working(clients, cast) -> None:
    secret = _create(clients["annotator"], name="n")["token"]
    cast["annotator"].is_active = False
    cast["annotator"].save(update_fields=["is_active"])
    assert _bearer(secret).get("/api/me").status_code == 401


def test_the_token_list_pages_with_limit_and_offset(clients, cast) -> None:
    for i in range(5):
        _create(clients["lead"], name=f"t{i}")
    page = clients["lead"].get("/api/me/tokens?limit=2&offset=2")
    assert [t["name"] for t in page.json()] == ["t2", "t1"]
    assert page["X-Total-Count"] == "5"
    assert 'rel="next"' in page["Link"]
    assert 'rel="prev"' in page["Link"]
    assert "offset=4" in page["Link"]
    bad = clients["lead"].get("/api/me/tokens?limit=0&offset=-1")
    assert bad.status_code == 400
    assert set(bad.json()) == {"limit", "offset"}


def test_projects_unknown_to_the_token_stay_hidden_from_the_project_list(clients, cast) -> None:
    Project.objects.create(slug="third", name="Third")
    secret = _create(clients["annotator"], name="all")["token"]
    assert [p["slug"] for p in _bearer(secret).get("/api/projects").json()] == ["cervical"]


def test_blinding_holds_through_a_token(clients, cast, case) -> None:
    hidden = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["annotator"])
    secret = _create(clients["reader"], name="r")["token"]
    reads = _bearer(secret).get(f"/api/cases/{case.pk}/reads").json()
    assert hidden.pk not in [r["id"] for r in reads]
    assert _bearer(secret).get(f"/api/reads/{hidden.pk}").status_code == 404
    lead = _create(clients["lead"], name="l")["token"]
    assert _bearer(lead).get(f"/api/reads/{hidden.pk}").status_code == 200
