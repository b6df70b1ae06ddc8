"""The public API against the live server (issue 15 §2): the documented Python example
pulls a project's gold measurements with a personal token; the docs page renders from
this site's own assets; the profile page creates, shows once and revokes a token."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from annotation.models import Case, CaseState
from annotation.services.gold import gold_read_get_or_create, gold_sign
from annotation.services.revisions import revision_create
from annotation.services.tokens import token_create
from measurements.models import MeasurementResult
from tests.annotation.workflow import complete_shapes
from tests.conftest import PASSWORD
from tests.e2e.conftest import Server, screenshot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "gold_measurements.py"


def _signed_gold(case: Case, reviewer: User) -> int:
    """The case's gold read with complete shapes, signed by the reviewer (real services:
    the save stores its measurements); returns the signed revision's id."""
    Case.objects.filter(pk=case.pk).update(state=CaseState.IN_REVIEW)
    gold, _ = gold_read_get_or_create(case=case, user=reviewer, role="reviewer")
    revision = revision_create(
        read=gold, parent_id=None, shapes=complete_shapes(case), author=reviewer
    )
    gold_sign(case=case, user=reviewer, role="reviewer", revision_id=revision.pk)
    return revision.pk


def _run_example(server: Server, token: str, project: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "SPINELABEL_TOKEN": token}
    return subprocess.run(  # the example needs only the standard library
        [sys.executable, "-I", str(EXAMPLE), server.url, project],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_example_pulls_the_gold_measurements_with_a_token(
    asgi_server: Server, cast: dict[str, User], case: Case, project: Any
) -> None:
    revision = _signed_gold(case, cast["reviewer"])
    stored = MeasurementResult.objects.filter(revision_id=revision)
    expected = {
        (r.image_id, r.view, name, value)
        for r in stored
        for name, value in r.values.items()
        if isinstance(value, int | float)
    }
    assert expected, "the gold revision has no numeric measurements to pull"
    _, secret = token_create(user=cast["lead"], name="example", projects=[project.slug])

    done = _run_example(asgi_server, secret, project.slug)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {r["case"] for r in rows} == {case.pseudonym}
    assert {r["revision"] for r in rows} == {str(revision)}
    pulled = {(int(r["image"]), r["view"], r["measure"], float(r["value"])) for r in rows}
    assert pulled == {(i, v, n, float(x)) for i, v, n, x in expected}

    # A blinded annotator's token sees no gold read: the example prints the header only.
    _, annotator = token_create(user=cast["annotator"], name="mine", projects=[])
    blinded = _run_example(asgi_server, annotator, project.slug)
    assert blinded.returncode == 0, blinded.stderr
    assert blinded.stdout.strip().splitlines() == [
        "case,revision,image,view,measure,value,algorithm_version"
    ]
    # An outsider's token: the project does not exist for it (404, exit status 1).
    _, outsider = token_create(user=cast["outsider"], name="x", projects=[])
    refused = _run_example(asgi_server, outsider, project.slug)
    assert refused.returncode == 1
    assert "404" in refused.stderr


def test_the_api_docs_render_from_this_site_only(signed_out_page: Any, asgi_server: Server) -> None:
    page = signed_out_page()
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(asgi_server.url) else foreign.append(r.url),
    )
    page.goto(f"{asgi_server.url}/api/docs/")
    # Swagger UI has fetched the schema and drawn an operation block per route.
    page.locator(".opblock").first.wait_for(state="visible")
    assert page.locator(".opblock").count() >= 50
    assert page.locator(".opblock-summary-path", has_text="/api/me/tokens").count() >= 1
    assert foreign == [], f"requests to other sites: {foreign}"
    screenshot(page, "api-docs")


def test_the_profile_page_creates_shows_once_and_revokes_a_token(
    page_for: Any, asgi_server: Server, cast: dict[str, User], project: Any
) -> None:
    page = page_for("reviewer", PASSWORD)
    page.get_by_test_id("username").click()
    page.wait_for_url(f"{asgi_server.url}/accounts/profile/")
    page.get_by_test_id("token-name").fill("nightly export")
    page.get_by_test_id(f"token-project-{project.slug}").check()
    page.get_by_test_id("token-create").click()
    secret = page.get_by_test_id("new-token").text_content() or ""
    assert secret.startswith("sl_")
    row = page.get_by_test_id("token-row")
    row.first.wait_for()
    assert row.count() == 1
    assert "nightly export" in (row.first.text_content() or "")
    assert secret not in (page.get_by_test_id("token-rows").text_content() or "")
    screenshot(page, "profile-token-created")

    # The secret works as the reviewer, in that project only, and is not shown again.
    reply = page.request.get(
        f"{asgi_server.url}/api/projects", headers={"Authorization": f"Bearer {secret}"}
    )
    assert [p["slug"] for p in reply.json()] == [project.slug]
    page.reload()
    page.get_by_test_id("token-row").first.wait_for()
    assert page.get_by_test_id("new-token").count() == 0
    assert page.get_by_test_id("token-last-used").first.text_content() != "never"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("token-revoke").click()
    page.get_by_text("No token yet.").wait_for()
    refused = page.request.get(
        f"{asgi_server.url}/api/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status == 401
