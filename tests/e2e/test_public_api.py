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
from tests.e2e.conftest import Server

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
