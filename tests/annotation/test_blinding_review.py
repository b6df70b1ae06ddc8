"""Blinding across the review workflow: a blinded reader never receives another person's
read, its revisions, measurements, comments or live events, by any route (every URL of the
product is listed here: what it leaks is checked, or why it carries no read is said), nor
by the case or project socket. The same probes run as the reviewer prove they can fail."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from annotation.models import Case, CaseState, Comment, Image, Read, Revision
from tests.annotation.review_helpers import Review, make_review
from tests.annotation.sockets import socket_open

WAIT_S = 5
SECRET = "the annotator's secret remark"


@dataclass
class World:
    review: Review
    secret_revision: Revision
    comment: Comment

    @property
    def case(self) -> Case:
        return self.review.case

    @property
    def secret(self) -> Read:
        return self.review.annotator


def _world(case: Case, cast: dict[str, User]) -> World:
    review = make_review(case=case, cast=cast)
    revision = Revision.objects.get(read=review.annotator, number=1)
    comment = Comment.objects.create(
        case=case,
        read=review.annotator,
        image=review.sagittal,
        x=5,
        y=5,
        body=SECRET,
        author=cast["reviewer"],
    )
    return World(review=review, secret_revision=revision, comment=comment)


def _leaks(answer: Any, world: World) -> list[str]:
    """What of the annotator's read a reply carries: its id as a read, its revision, the
    secret comment."""
    if answer.status_code in (403, 404):
        return []
    text = answer.content.decode(errors="replace")
    found = []
    if SECRET in text:
        found.append("the secret comment")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if data is not None and _mentions(data, world):
        found.append("the annotator's read or revision")
    return found


def _mentions(data: Any, world: World) -> bool:
    """A read is an object with its id and a "kind"; a revision one with its id and its
    shapes or shape count; anything else names them under "read" or "revision"."""
    if isinstance(data, dict):
        if data.get("read") == world.secret.pk or data.get("revision") == world.secret_revision.pk:
            return True
        if data.get("id") == world.secret.pk and data.get("kind") == "human":
            return True
        if data.get("id") == world.secret_revision.pk and ({"shapes", "shape_count"} & set(data)):
            return True
        return any(_mentions(v, world) for v in data.values())
    if isinstance(data, list):
        return any(_mentions(v, world) for v in data)
    return False


# GET routes whose answers may mention reads: each probed with the reader's client.
Probe = Callable[[World], str]
PROBED: dict[str, Probe] = {
    "api-case": lambda w: f"/api/cases/{w.case.pk}",
    "api-case-reads": lambda w: f"/api/cases/{w.case.pk}/reads",
    "api-read": lambda w: f"/api/reads/{w.secret.pk}",
    "api-revisions": lambda w: f"/api/reads/{w.secret.pk}/revisions",
    "api-revision": lambda w: f"/api/revisions/{w.secret_revision.pk}",
    "api-read-check": lambda w: f"/api/reads/{w.secret.pk}/check",
    "api-image-labelme": lambda w: (
        f"/api/images/{w.review.sagittal.pk}/labelme?revision={w.secret_revision.pk}"
    ),
    "api-revision-measurements": lambda w: f"/api/revisions/{w.secret_revision.pk}/measurements",
    "api-case-review": lambda w: f"/api/cases/{w.case.pk}/review",
    "api-case-review-measurements": lambda w: f"/api/cases/{w.case.pk}/review/measurements",
    "api-case-measurements": lambda w: f"/api/cases/{w.case.pk}/measurements",
    "case-measurements": lambda w: f"/cases/{w.case.pk}/measurements",
    "api-case-comments": lambda w: f"/api/cases/{w.case.pk}/comments",
    "api-case-history": lambda w: f"/api/cases/{w.case.pk}/history",
    "api-case-list": lambda w: f"/api/projects/{w.case.project.slug}/cases",
    "api-case-jobs": lambda w: f"/api/cases/{w.case.pk}/jobs",
    "api-read-suggestions": lambda w: f"/api/reads/{w.secret.pk}/suggestions",
    "api-project-jobs": lambda w: f"/api/projects/{w.case.project.slug}/jobs",
    "api-claims": lambda w: f"/api/projects/{w.case.project.slug}/claims",
    "api-queue-counts": lambda w: f"/api/projects/{w.case.project.slug}/queue/counts",
    "case-view": lambda w: f"/cases/{w.case.pk}/",
    "case-review": lambda w: f"/cases/{w.case.pk}/review",
    "case-history": lambda w: f"/cases/{w.case.pk}/history",
    "case-list": lambda w: f"/projects/{w.case.project.slug}/",
    "api-models": lambda w: f"/api/projects/{w.case.project.slug}/models",
    "api-project-retrain-jobs": lambda w: f"/api/projects/{w.case.project.slug}/retrain/jobs",
    "api-reports": lambda w: f"/api/projects/{w.case.project.slug}/reports",
    "project-reports": lambda w: f"/projects/{w.case.project.slug}/reports",
    "api-dashboard-progress": lambda w: f"/api/projects/{w.case.project.slug}/dashboard/progress",
    "api-dashboard-agreement": lambda w: f"/api/projects/{w.case.project.slug}/dashboard/agreement",
    "api-project-exports": lambda w: f"/api/projects/{w.case.project.slug}/exports",
    "project-exports": lambda w: f"/projects/{w.case.project.slug}/exports",
}
# Routes that never answer with a read's content (why), or only to its author.
NOT_READ_CONTENT = {
    "api-me": "the user and their projects",
    "api-project-list": "projects",
    "api-project": "a project and its members",
    "api-imports": "POST: creates cases",
    "api-design": "the study design",
    "api-design-splits": "POST: splits",
    "api-queue-next": "POST: the user's own next claim",
    "api-claim-renew": "POST: the user's own claim",
    "api-claim-release": "POST: a claim (its holder or the lead)",
    "api-claim-reassign": "POST: the lead's",
    "api-read-submit": "POST: the author's own read (404 for others: access_read)",
    "api-image-pixels": "pixels",
    "api-series-thumbnail": "pixels",
    "api-restore": "POST: the author's own read (write rule)",
    "api-labelme": "POST: the author's own read (write rule)",
    "api-gold": "POST: reviewers only",
    "api-gold-compose": "POST: reviewers only",
    "api-gold-sign": "POST: reviewers only",
    "api-case-return": "POST: reviewers only",
    "api-comment-resolve": "POST: a thread the user sees (404 otherwise)",
    "api-case-prelabel": "POST: a model read",
    "api-project-prelabel": "POST: model reads",
    "api-job": "a pre-label job (model reads only)",
    "api-measure": "POST: measures the shapes the user sends",
    "api-case-reopen": "POST: reviewers and leads (a state move)",
    "api-project-retrain": "POST: starts a training job (answers the job)",
    "api-model-promote": "POST: a model version",
    "api-model-activate": "POST: a model version",
    "login": "sign-in page",
    "logout": "sign-out",
    "project-list": "projects",
    "upload": "the import page",
    "project-settings": "settings",
    "project-models": "the models page shell, leads and reviewers only (figures: the API)",
    "api-project-strategy": "the project's selection strategy and how many cases are scored",
    "api-project-corrections": "corrections of pre-labels: leads and reviewers only",
    "dashboard-progress": "the page shell, leads and reviewers only (figures: the API)",
    "dashboard-agreement": "the page shell, leads and reviewers only (figures: the API)",
    "api-report": "a study report: refused to whoever may not see every read (may_request_report)",
    "api-report-html": "a study report: refused to anyone who may not see every read",
    "api-report-csv": "a study report: refused to anyone who may not see every read",
    "api-project-export-formats": "the format names this server writes (leads and reviewers)",
    "api-export": "an export's status: its requester's alone (a lead or reviewer), 404 to others",
    "api-export-download": "an export's zip: its requester's alone, 404 to others",
    "pacs": "the PACS page shell: leads only",
    "api-pacs-connection": "the PACS address and user name: leads only",
    "api-pacs-studies": "what the PACS holds (no read): leads only",
    "api-pacs-imports": "import jobs: counts, pseudonyms, messages (no read); leads only",
    "api-pacs-import": "an import job (no read): leads only",
    "api-pacs-import-retry": "queues an import again (no read): leads only",
    "api-schema": "the OpenAPI document: routes and shapes, no data",
    "api-docs": "Swagger UI's page shell (it loads the schema)",
    "profile": "my projects and my token list",
    "api-tokens": "my own API tokens (names, prefixes, projects)",
    "api-token": "DELETE: revokes one of my own tokens",
}


def _route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name:
                names.add(p.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_route_is_probed_or_said_to_carry_no_read() -> None:
    missing = _route_names() - set(PROBED) - set(NOT_READ_CONTENT)
    assert not missing, f"routes without a blinding probe or a reason: {sorted(missing)}"


def _probe_all(client: Client, world: World) -> dict[str, list[str]]:
    found = {}
    for name, url in PROBED.items():
        answer = client.get(url(world))
        assert answer.status_code < 500, (name, answer.status_code)
        leaks = _leaks(answer, world)
        if leaks:
            found[name] = leaks
    return found


@pytest.mark.django_db
def test_a_blinded_reader_gets_nothing_of_another_persons_read_by_any_route(
    clients, case, cast
) -> None:
    world = _world(case, cast)
    Comment.objects.create(case=case, read=world.review.reader, body="mine", author=cast["reader"])
    assert _probe_all(clients["reader"], world) == {}
    # The reader's own read is there: the probes look where it would be.
    reads = clients["reader"].get(f"/api/cases/{case.pk}/reads").json()
    assert world.review.reader.pk in {r["id"] for r in reads}


@pytest.mark.django_db
def test_the_same_probes_find_the_read_for_the_reviewer(clients, case, cast) -> None:
    world = _world(case, cast)
    found = _probe_all(clients["reviewer"], world)
    for name in (
        "api-case-reads",
        "api-read",
        "api-revision",
        "api-case-review",
        "api-case-comments",
        "api-case-history",
        "api-revision-measurements",
    ):
        assert name in found, name


@pytest.mark.django_db
def test_an_annotator_kept_blind_sees_neither_the_readers_read_nor_the_gold(
    clients, case, cast
) -> None:
    world = _world(case, cast)
    gold = clients["reviewer"].post(
        f"/api/cases/{case.pk}/gold/compose",
        data=json.dumps({"parent": None, "structures": {"cord": {"from": world.secret.pk}}}),
        content_type="application/json",
    )
    assert gold.status_code == 201, gold.content
    history = clients["annotator"].get(f"/api/cases/{case.pk}/history").json()
    kinds = {r["kind"] for r in history["reads"]}
    assert kinds == {"human", "model"}
    assert {r["id"] for r in history["reads"]} == {world.secret.pk, world.review.model.pk}
    assert clients["annotator"].get(f"/api/revisions/{gold.json()['id']}").status_code == 404


# ----- live events -----


async def _until(socket: WebsocketCommunicator, last: str) -> list[dict[str, Any]]:
    """Every event up to and including the first of type `last`."""
    events = []
    while True:
        event = await socket.receive_json_from(timeout=WAIT_S)
        events.append(event)
        if event["type"] == last:
            return events


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    answer = client.post(url, data=json.dumps(body), content_type="application/json")
    assert answer.status_code < 300, (url, answer.status_code, answer.content)
    return answer.json()


def _workflow_of_the_annotator(clients: dict[str, Client], world: World) -> None:
    """Save, submit, a reviewer's comment and its resolution on the annotator's read, then a
    sign-off of the gold: every live event a read can cause."""
    case = world.case
    head = Read.objects.get(pk=world.secret.pk).head_id
    image = str(world.review.sagittal.pk)
    shape = {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}
    _post(
        clients["annotator"],
        f"/api/reads/{world.secret.pk}/revisions",
        {"parent": head, "shapes": {image: [shape]}},
    )
    Case.objects.filter(pk=case.pk).update(state=CaseState.IN_ANNOTATION)
    _post(
        clients["annotator"], f"/api/reads/{world.secret.pk}/submit", {"override_reason": "quick"}
    )
    Case.objects.filter(pk=case.pk).update(state=CaseState.IN_REVIEW)
    comment = _post(
        clients["reviewer"],
        f"/api/cases/{case.pk}/comments",
        {"body": SECRET, "read": world.secret.pk},
    )
    _post(
        clients["reviewer"],
        f"/api/cases/{case.pk}/comments/{comment['id']}/resolve",
        {"resolved": True},
    )
    composed = _post(
        clients["reviewer"],
        f"/api/cases/{case.pk}/gold/compose",
        {"parent": None, "structures": {"cord": {"from": world.secret.pk}}},
    )
    _post(clients["reviewer"], f"/api/cases/{case.pk}/gold/sign", {"revision": composed["id"]})


READ_EVENTS = {
    "revision.saved",
    "measurement.updated",
    "read.submitted",
    "comment.posted",
    "comment.resolved",
}


def _about_others(events: list[dict[str, Any]], world: World) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e["type"] in READ_EVENTS
        and (e.get("read") != world.review.reader.pk or SECRET in json.dumps(e))
    ]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_blinded_reader_socket_gets_no_live_event_of_another_persons_read(
    channel_layer, project, cast
) -> None:
    from annotation import live
    from annotation.live import case_group, event_publish
    from tests.factories import make_case

    case = await sync_to_async(make_case)(project=project)
    world = await sync_to_async(_world)(case, cast)
    clients = {}
    for name in ("annotator", "reader", "reviewer"):
        clients[name] = Client()
        await sync_to_async(clients[name].force_login)(cast[name])
    import asyncio

    live.server_process_mark(asyncio.get_running_loop())
    try:
        paths = (f"/ws/cases/{case.pk}/", f"/ws/projects/{project.slug}/")
        sockets = {
            (n, p): await socket_open(clients[n], p) for n in ("reader", "reviewer") for p in paths
        }
        await sync_to_async(_workflow_of_the_annotator)(clients, world)
        # A marker after everything: whatever the reader was to get has come before it.
        for group in (case_group(case.pk), live.project_group(project.pk)):
            await sync_to_async(event_publish)(group=group, type="test.marker", payload={})
        got = {key: await _until(socket, "test.marker") for key, socket in sockets.items()}
        for path in paths:
            assert _about_others(got[("reader", path)], world) == [], path
        reviewer_saw = {e["type"] for e in got[("reviewer", paths[0])]}
        assert reviewer_saw >= READ_EVENTS
        # Events without a read reach the reader too: the case and the queue moved on.
        reader_saw = {e["type"] for e in got[("reader", paths[1])]}
        assert {"case.state_changed", "gold.signed", "queue.changed"} <= reader_saw
        for socket in sockets.values():
            await socket.disconnect()
    finally:
        live._server_loop = None


@pytest.mark.django_db
def test_the_image_of_a_read_is_not_a_way_around(clients, case, cast) -> None:
    world = _world(case, cast)
    image = Image.objects.get(pk=world.review.sagittal.pk)
    # Without a revision the export names the reader's own shapes, never the annotator's.
    answer = clients["reader"].get(f"/api/images/{image.pk}/labelme")
    assert _leaks(answer, world) == []
