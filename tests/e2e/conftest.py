"""Browser tests: a real ASGI server (uvicorn, as `make demo` runs it) on the test database,
driven by Playwright in Debian's Chromium.

The server is a subprocess sharing the test database and a session data directory, so
tests use committed data (``transactional_db``) and write pixels where the server reads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.server import database_url, start_uvicorn, stop

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
# still plain synchronous calls between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="session")
def e2e_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-data")


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings, e2e_data_dir: Path) -> None:
    """Override the suite's per-test data dir: the server must see the test's pixels."""
    settings.DATA_DIR = e2e_data_dir
    settings.PIXEL_ROOT = e2e_data_dir / "pixels"
    settings.MODEL_DIR = e2e_data_dir / "models"
    settings.LIVE_OUTBOX_ENABLED = True
    settings.PRELABEL_ON_IMPORT = False


@pytest.fixture(scope="session")
def asgi_server(
    django_db_setup: None, django_db_blocker: Any, e2e_data_dir: Path
) -> Iterator[Server]:
    manifest = ROOT / "frontend" / "dist" / ".vite" / "manifest.json"
    if not manifest.exists():
        pytest.fail("the frontend is not built: run `make frontend` (make test does)")
    with django_db_blocker.unblock():
        settings_dict = dict(connection.settings_dict)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = OUTPUT / f"server-{os.getpid()}.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(settings_dict),
        "DATA_DIR": str(e2e_data_dir),
        "PRELABEL_ON_IMPORT": "false",
    }
    env.pop("REDIS_URL", None)
    try:
        process, url = start_uvicorn(env, log=log)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield Server(url=url, data_dir=e2e_data_dir, process=process, log=log)
    finally:
        stop(process)


# Module scope: Playwright's sync API keeps an event loop running in this thread while it
# is open, which would break asyncio tests that pytest-django orders after the e2e ones.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/ensure_services.sh")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class PageErrors:
    """Console errors, failed requests and 4xx/5xx responses of one browser context: a browser
    test fails on any of them unless its text matches a pattern the test allowed on purpose.
    (A request the browser aborts, e.g. by navigating away, is not an error.)"""

    def __init__(self, context: Any, allow: tuple[str, ...] = ()) -> None:
        self.seen: list[str] = []
        self.allowed: list[re.Pattern[str]] = [re.compile(a) for a in allow]
        context.on("console", self._console)
        context.on("weberror", lambda e: self.seen.append(f"page error: {e.error}"))
        context.on("requestfailed", self._failed)
        context.on("response", self._response)
        context.set_default_timeout(15000)
        _ERRORS[id(context)] = self

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.seen.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def _failed(self, request: Any) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:
            self.seen.append(f"request failed: {request.method} {request.url} {failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.seen.append(
                f"response {response.status}: {response.request.method} {response.url}"
            )

    def allow(self, *patterns: str) -> None:
        self.allowed.extend(re.compile(p) for p in patterns)

    def unexpected(self) -> list[str]:
        return [e for e in self.seen if not any(p.search(e) for p in self.allowed)]


_ERRORS: dict[int, PageErrors] = {}


def allow_errors(page: Any, *patterns: str) -> None:
    """Let the test's page log errors matching these regular expressions (it provokes them)."""
    _ERRORS[id(page.context)].allow(*patterns)


@pytest.fixture
def page_for(browser: Any, asgi_server: Server) -> Iterator[Any]:
    """A factory of signed-in pages, one browser context each (separate sessions). The test
    fails on a console error or a failed request in any of them, except those matching a
    pattern of `allow` (or of `allow_errors(page, ...)`)."""
    with _watched_pages(browser) as new_page:

        def open_page(username: str, password: str, *, allow: tuple[str, ...] = ()) -> Any:
            page = new_page(allow)
            page.goto(f"{asgi_server.url}/accounts/login/")
            page.get_by_test_id("login-username").fill(username)
            page.get_by_test_id("login-password").fill(password)
            page.get_by_test_id("login-submit").click()
            page.wait_for_url(f"{asgi_server.url}/")
            return page

        yield open_page


@pytest.fixture
def signed_out_page(browser: Any) -> Iterator[Any]:
    """A factory of pages that are not signed in, one browser context each, under the same
    check as `page_for` (console errors, failed requests, 4xx/5xx fail the test)."""
    with _watched_pages(browser) as new_page:
        yield lambda allow=(): new_page(tuple(allow))


@contextmanager
def _watched_pages(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []
    watched: list[PageErrors] = []

    def new_page(allow: tuple[str, ...]) -> Any:
        context = browser.new_context(viewport={"width": 1500, "height": 900})
        contexts.append(context)
        watched.append(PageErrors(context, allow))
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield new_page
    for context in contexts:
        for page in context.pages:
            _wait_for_saves(page)
    unexpected = [e for w in watched for e in w.unexpected()]
    for context in contexts:
        _ERRORS.pop(id(context), None)
        context.close()
    if unexpected:
        pytest.fail("the browser logged errors:\n" + "\n".join(unexpected[:20]), pytrace=False)


# The autosave of an edit a test made last may still be on its way to the server when the
# test ends; the database's flush at teardown would then deadlock with its transaction.
_SAVES_SETTLED = """() => [...document.querySelectorAll('[data-testid=save-status]')]
    .every((s) => s.dataset.state !== 'pending' && s.dataset.state !== 'saving')"""


def _wait_for_saves(page: Any) -> None:
    """Wait until no autosave of the page is pending or in flight (a closed page has none)."""
    if not page.is_closed():
        page.wait_for_function(_SAVES_SETTLED, timeout=15000)


def screenshot(page: Any, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


# ----- realistic cases and page helpers shared by the browser tests -----


@dataclass(frozen=True)
class PhantomStudy:
    """A phantom (with its analytic truth) written once as DICOM files for the real ingest."""

    phantom: Any
    folder: Path


@pytest.fixture(scope="session")
def phantom_study(tmp_path_factory: pytest.TempPathFactory) -> PhantomStudy:
    from fixtures.phantom import make_phantom, write_dicom
    from fixtures.phantom_types import PhantomSpec

    phantom = make_phantom(PhantomSpec())
    folder = tmp_path_factory.mktemp("phantom-dicom")
    write_dicom(phantom, folder, patient_name="E2E^PHANTOM", patient_id="E2E-0001")
    return PhantomStudy(phantom=phantom, folder=folder)


def case_image(case: Any, orientation: str, index: int) -> Any:
    """The case's image of that orientation and slice index."""
    from annotation.models import Image

    return Image.objects.get(series__case=case, series__orientation=orientation, index=index)


def shifted_shapes(shapes: list[dict[str, Any]], dx: float) -> list[dict[str, Any]]:
    """A copy of labelme shapes moved `dx` pixels along x (a second reader's near-miss)."""
    moved = [dict(shape) for shape in shapes]
    for shape in moved:
        shape["points"] = [[x + dx, y] for x, y in shape["points"]]
    return moved


def import_study(project: Any, folder: Path) -> Any:
    """Import DICOM files through the real ingest (as the upload page and the CLI do)."""
    from annotation.ingest import ingest_paths
    from annotation.models import Case

    summary = ingest_paths(project=project, paths=[folder])
    assert len(summary.cases) == 1, (summary.cases, summary.skipped)
    return Case.objects.get(pk=summary.cases[0][0])


@pytest.fixture
def phantom_case(project: Any, phantom_study: PhantomStudy) -> Any:
    return import_study(project, phantom_study.folder)


def wait_for_viewer(page: Any, slots: tuple[str, ...] = ("sagittal", "axial")) -> None:
    """Wait until the tools are up and every viewport drew its slice (its canvas says "ready") with
    all slices of its series loaded."""
    page.wait_for_function(
        """(slots) => document.body.dataset.tool !== undefined
            && slots.every((s) => {
              const q = (id) => document.querySelector(`[data-testid=${id}-${s}]`);
              return q('viewport') && q('viewport').dataset.state === 'ready'
                && q('slice-label').textContent !== ''
                && q('load-label').textContent === '' && q('status-label').textContent === '';
            })""",
        arg=list(slots),
    )


CANVAS_SIGNATURE_JS = """(testid) => {
  const c = document.querySelector(`[data-testid=${testid}]`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 2166136261, sum = 0, lit = 0;
  for (let i = 0; i < d.length; i += 4) {
    const v = d[i] + d[i + 1] + d[i + 2];
    sum += v;
    if (v > 30) lit += 1;
    h = Math.imul(h ^ (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)), 16777619) >>> 0;
  }
  const n = d.length / 4;
  return {hash: h, mean: sum / (3 * n), lit: lit / n, width: c.width, height: c.height};
}"""


def canvas_signature(page: Any, testid: str) -> dict[str, float]:
    """A digest of the canvas pixels (hash, mean grey, share of non-black pixels)."""
    return dict(page.evaluate(CANVAS_SIGNATURE_JS, testid))


def wait_canvas_changed(page: Any, testid: str, old_hash: float) -> None:
    """Wait until the canvas shows something else than the digest `old_hash` (a redraw is one
    animation frame after the DOM change that asked for it)."""
    page.wait_for_function(
        f"([id, old]) => ({CANVAS_SIGNATURE_JS})(id).hash !== old", arg=[testid, old_hash]
    )


def view_of(page: Any, slot: str) -> dict[str, Any]:
    """The viewport's stated view transform (`data-view`), waited for and read in one step:
    a refit drops the attribute until its next frame, so a check for it followed by a
    separate read could find it gone."""
    view = page.wait_for_function(
        "(sel) => document.querySelector(sel)?.dataset.view || null",
        arg=f"[data-testid=viewport-{slot}]",
    ).json_value()
    return dict(json.loads(view))


def to_client(page: Any, slot: str, x: float, y: float) -> tuple[float, float]:
    """Client position of an image point (labelme coordinates): the canvas box plus the view
    transform the viewport states on its canvas (`data-view`: offset and scale, CSS pixels)."""
    canvas = page.get_by_test_id(f"viewport-{slot}")
    view = view_of(page, slot)
    box = canvas.bounding_box()
    assert box is not None, f"the {slot} viewport is not shown"
    return (
        box["x"] + view["offset"][0] + x * view["scale"][0],
        box["y"] + view["offset"][1] + y * view["scale"][1],
    )


def shown_slice(page: Any, slot: str) -> dict[str, int]:
    """The image id and 0-based index of the slice a viewport shows (stated on its canvas)."""
    canvas = page.get_by_test_id(f"viewport-{slot}")
    expect(canvas).to_have_attribute("data-image-id", re.compile(r"^\d+$"))
    return {
        "imageId": int(canvas.get_attribute("data-image-id")),
        "index": int(canvas.get_attribute("data-slice-index")),
    }


def page_shapes(page: Any, slot: str) -> list[dict[str, Any]]:
    """The shapes the page holds on the slice `slot` shows, as a user gets them: the labelme
    export of the active viewport's slice (which must be `slot`)."""
    expect(page.locator(f".viewport[data-slot={slot}]")).to_have_class(re.compile(r"\bactive\b"))
    with page.expect_download() as download:
        page.get_by_test_id("labelme-export").click()
    return list(json.loads(Path(download.value.path()).read_text())["shapes"])


def start_my_read(page: Any) -> int:
    """Click "Start my read" (opening a case creates no read) and wait until the page shows it;
    returns its id."""
    page.get_by_test_id("start-read").click()
    expect(page.get_by_test_id("start-read")).to_be_hidden()
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid=read-select]');
                   const o = s && s.selectedOptions[0];
                   return o && /· human/.test(o.text); }"""
    )
    read_id = int(page.get_by_test_id("read-select").input_value())
    # Shown, not only listed: an edit made before the read has loaded would be replaced by it.
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-read", str(read_id))
    return read_id


def draft_status(page: Any) -> str:
    """The status bar on the shape being drawn ("Polygon: 3 points", "Caliper: 6.42 mm")."""
    return str(page.get_by_test_id("draft-status").text_content() or "")


def api_get(page: Any, path: str) -> Any:
    """GET a JSON API path with the page's session (as the signed-in user)."""
    parts = urlsplit(page.url)
    response = page.request.get(f"{parts.scheme}://{parts.netloc}{path}")
    assert response.ok, (path, response.status, response.text()[:300])
    return response.json()


def wait_for_head(
    page: Any, read_id: int | str, until: Callable[[dict[str, Any]], bool], timeout_s: float = 15
) -> dict[str, Any]:
    """Poll `GET /api/reads/{id}` until its head revision satisfies `until`, then wait for the
    page to say it is saved; returns the head. (The save state alone can be a stale "saved".)"""
    deadline = time.monotonic() + timeout_s
    while True:
        head = api_get(page, f"/api/reads/{read_id}").get("revision")
        if head is not None and until(head):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the read {read_id} never reached the expected head: {head}")
        page.wait_for_timeout(100)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=save-status]').dataset.state === 'saved'"
    )
    return dict(head)


# ----- pre-labelling: a tiny model registered through the real registry -----
