"""Schemathesis against the OpenAPI schema (/api/schema/) of the live server, with a
personal API token for each role of the cast. Generated requests (path ids pointed at the
permission matrix's objects, so bodies and queries reach real cases, reads and claims):
never answer 5xx (but the PACS routes' 502/504 naming a PACS that cannot be reached: the
test points any PACS connection at a closed loopback port); an outsider gets 403/404 from
every project-scoped route; a role the permission matrix refuses a route never gets a 2xx
from it, whatever the body.

Bounded: MAX_EXAMPLES generated requests per operation (~75 operations), well under a
minute per role.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import requests
import schemathesis
from django.contrib.auth.models import User
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given, settings

from annotation.services.tokens import token_create
from tests.annotation import test_permission_matrix as matrix
from tests.annotation.test_permission_matrix import (
    HTTP_ROWS,
    World,
    _annotator_comment,
    _annotators_claim,
    _candidate_model,
)
from tests.e2e.conftest import Server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

MAX_EXAMPLES = 2
world = matrix.world  # the permission matrix's objects, as a fixture here too
REFUSED = frozenset({403, 404})
UNREACHABLE_PACS = "http://127.0.0.1:9/dicom-web"  # the discard port: nothing listens


def _ids(world: World) -> dict[str, Any]:
    """Path parameters → the matrix world's objects (others stay generated)."""
    return {
        "slug": world.slug,
        "case_id": world.case.pk,
        "read_id": world.read.pk,
        "revision_id": world.first_revision.pk,
        "image_id": world.image.pk,
        "series_id": world.series.pk,
        "job_id": world.job.pk,
        "claim_id": _annotators_claim(world),
        "comment_id": _annotator_comment(world),
        "model_id": _candidate_model(),
    }


def _refused_by_matrix(name: str, method: str, role: str) -> bool:
    """Whether every matrix row of this route and method refuses the role (403/404)."""
    rows = [r for r in HTTP_ROWS if r.name == name and r.method == method]
    return bool(rows) and all(r.expect[role] in REFUSED for r in rows)


def _pacs_unreachable(path: str, status: int, text: str) -> bool:
    """The PACS routes' documented gateway answer (502/504 naming the PACS) when the PACS
    the lead configured cannot be reached: an upstream's fault, not the server's."""
    return "/pacs/" in path and status in {502, 504} and "the PACS at" in text


def _url_name(path: str) -> str:
    """The route's name; "" for a path no route takes (a negative id: Django's 404)."""
    try:
        return resolve(path).url_name or ""
    except Resolver404:
        return ""


def _schema(server: Server) -> Any:
    with urllib.request.urlopen(f"{server.url}/api/schema/?format=json", timeout=60) as reply:
        return schemathesis.openapi.from_dict(json.load(reply))


@pytest.mark.parametrize("role", ["annotator", "reader", "reviewer", "lead", "outsider"])
def test_generated_requests_stay_within_the_role(
    asgi_server: Server, cast: dict[str, User], world: World, role: str
) -> None:
    _, secret = token_create(user=cast[role], name="fuzz", projects=[])
    ids = _ids(world)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {secret}"
    problems: list[str] = []
    calls = 0
    statuses: dict[int, int] = {}

    for result in _schema(asgi_server).get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            nonlocal calls
            for name in list(case.path_parameters or {}):
                if name in ids:
                    case.path_parameters[name] = ids[name]
            if isinstance(case.body, dict) and "base_url" in case.body:
                # A PACS connection: never a generated host on the internet; a closed
                # loopback port, so the PACS routes answer "unreachable" at once.
                case.body["base_url"] = UNREACHABLE_PACS
            response = case.call(base_url=asgi_server.url, session=session, timeout=60)
            calls += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            where = f"{case.method} {case.formatted_path} as {role}"
            status = response.status_code
            if status >= 500 and not _pacs_unreachable(case.path, status, response.text):
                problems.append(f"{where}: {status} {response.text[:200]}")
                return
            scoped = bool(case.path_parameters) and not case.path.startswith("/api/me/")
            if role == "outsider" and scoped and status not in REFUSED:
                problems.append(f"{where}: an outsider got {status}")
            refused = _refused_by_matrix(_url_name(case.formatted_path), case.method.lower(), role)
            if refused and 200 <= status < 300:
                problems.append(f"{where}: {status}, but the matrix refuses this role")

        check()

    print(role, calls, "requests:", sorted(statuses.items()))
    assert calls >= MAX_EXAMPLES * 20, f"only {calls} requests were made"
    assert not problems, "\n".join(problems[:30])
