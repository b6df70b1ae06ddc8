"""The pages work under the strict Content-Security-Policy (issue 11, row 9): Chromium
reports no violation on any page, and the case page's viewer and script run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import wait_for_viewer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def test_no_page_violates_the_content_security_policy(
    page_for: Any, asgi_server: Any, phantom_case: Any, cast: Any
) -> None:
    page = page_for("lead", PASSWORD)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    slug = phantom_case.project.slug
    for path in (
        "/",
        f"/projects/{slug}/",
        f"/projects/{slug}/import/",
        f"/projects/{slug}/settings/",
        "/accounts/profile/",
        "/api/docs/",
    ):
        response = page.goto(f"{asgi_server.url}{path}")
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")

    page.goto(f"{asgi_server.url}/cases/{phantom_case.pk}/")
    wait_for_viewer(page)

    assert violations == []
