"""The browser tests' error watch (tests/e2e/conftest.py PageErrors) itself: a console error,
an uncaught page error, a failed request and a 4xx response are each caught, and only the
patterns a test allows on purpose are let through. Without this, "every e2e test fails on a
console error" could silently stop being true."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import PageErrors

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def _watched(browser: Any, allow: tuple[str, ...] = ()) -> tuple[Any, PageErrors]:
    context = browser.new_context()
    return context, PageErrors(context, allow)


def _wait_for(page: Any, errors: PageErrors, done: Callable[[str], bool]) -> str:
    """Let the browser's events arrive (each round trip delivers those before it) until `done`
    holds for what was caught, for at most 10 s; returns the caught text."""
    deadline = time.monotonic() + 10
    text = ""
    while time.monotonic() < deadline:
        page.evaluate("() => new Promise((resolve) => requestAnimationFrame(() => resolve(0)))")
        text = "\n".join(errors.seen)
        if done(text):
            break
    return text


def test_each_kind_of_browser_error_is_caught(browser: Any, asgi_server: Any) -> None:
    context, errors = _watched(browser)
    try:
        page = context.new_page()
        page.goto(f"{asgi_server.url}/accounts/login/")
        assert errors.unexpected() == []  # a clean page logs nothing
        page.evaluate("() => console.error('deliberate console error')")
        page.evaluate("() => setTimeout(() => { throw new Error('deliberate page error'); })")
        page.evaluate("() => fetch('/static/no-such-file.js').catch(() => null)")
        # A request that fails on the wire (connection refused), made so by the test.
        page.route("**/refused-here", lambda route: route.abort("connectionrefused"))
        page.evaluate("() => fetch('/refused-here').catch(() => null)")
        wanted = (
            "console error: deliberate console error",
            "page error: deliberate page error",
            "response 404: GET",
            f"request failed: GET {asgi_server.url}/refused-here",
        )
        seen = _wait_for(page, errors, lambda text: all(w in text for w in wanted))
        for w in wanted:
            assert w in seen, f"{w!r} not caught in:\n{seen}"
    finally:
        context.close()


def test_only_the_allowed_patterns_pass(browser: Any, asgi_server: Any) -> None:
    context, errors = _watched(browser, allow=(r"deliberate and allowed",))
    try:
        page = context.new_page()
        page.goto(f"{asgi_server.url}/accounts/login/")
        page.evaluate("() => console.error('deliberate and allowed')")
        page.evaluate("() => console.error('deliberate, not allowed')")
        page.evaluate("() => console.error('deliberate end')")
        _wait_for(page, errors, lambda text: "deliberate end" in text)
        assert [e for e in errors.unexpected() if "deliberate" in e] == [
            "console error: deliberate, not allowed ()",  # evaluated code has no script URL
            "console error: deliberate end ()",
        ]
    finally:
        context.close()
