"""Who may do what, as one table: role × every HTTP endpoint (config/urls.py) and every
WebSocket route (config/routing.py). A new endpoint without a row fails this test.

Status codes are the contract (docs/API.md): an outsider gets 404 for a project's objects,
a member without the role 403, the anonymous 403 from the API and a redirect to the login
from pages. A 400 on a write means the request passed the permission check and was then
refused for its (deliberately empty) body.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.views import APIView

from annotation.models import Case, Claim, Comment, Image, Read, ReadKind, Revision, Series
from annotation.services.revisions import revision_create
from inference.models import PrelabelJob

ROLES = ("anonymous", "outsider", "annotator", "reader", "reviewer", "lead")
MEMBERS = ("annotator", "reader", "reviewer", "lead")


@dataclass
class World:
    """A project (blinded, the default) with one case, the annotator's read saved once, a
    model read and a pre-label job."""

    case: Case
    image: Image
    series: Series
    read: Read
    model_read: Read
    first_revision: Revision
    job: PrelabelJob
    slug: str

    def head(self) -> int | None:
        return Read.objects.values_list("head_id", flat=True).get(pk=self.read.pk)


def _status(*, anonymous: int, outsider: int, default: int, **roles: int) -> dict[str, int]:
    table = {"anonymous": anonymous, "outsider": outsider}
    table.update({role: roles.get(role, default) for role in MEMBERS})
    return table


# Members all allowed / the annotator's read as a blinded project shows it / its writes.
API_MEMBERS = _status(anonymous=403, outsider=404, default=200)
PAGE_MEMBERS = _status(anonymous=302, outsider=404, default=200)
SEES_ANNOTATORS_READ = _status(anonymous=403, outsider=404, default=200, reader=404)
WRITES_ANNOTATORS_READ = _status(
    anonymous=403, outsider=404, default=403, annotator=201, reader=404
)


REVIEWERS = _status(anonymous=403, outsider=404, default=403, reviewer=200, lead=200)
REVIEWERS_PAGE = _status(anonymous=302, outsider=404, default=403, reviewer=200, lead=200)
REVIEWERS_WRITE = _status(anonymous=403, outsider=404, default=403, reviewer=400, lead=400)


def _annotator_comment(world: World) -> int:
    author = world.read.author
    assert author is not None
    comment = Comment.objects.create(case=world.case, read=world.read, author=author, body="C5")
    return comment.pk


LEAD_WRITE = _status(anonymous=403, outsider=404, default=403, lead=400)
LEADS = _status(anonymous=403, outsider=404, default=403, lead=200)
LEADS_PAGE = _status(anonymous=302, outsider=404, default=403, lead=200)


def _pacs_import(world: World) -> int:
    """A queued PACS import of the project (pacs.models), created once."""
    from pacs.models import PacsImport

    job, _ = PacsImport.objects.get_or_create(project_id=world.case.project_id)
    return job.pk


def _annotators_token() -> int:
    """A new live token of the annotator (each request revokes at most one)."""
    from annotation.services.tokens import token_create

    token, _ = token_create(user=User.objects.get(username="annotator"), name="t", projects=[])
    return token.pk


def _empty(world: World) -> dict[str, Any]:
    return {}


def _annotators_claim(world: World) -> int:
    """The annotator's live claim on the case (a new one after a release)."""
    author = world.read.author
    assert author is not None
    live = Claim.objects.filter(case=world.case, user=author, released_at=None)
    claim = live.first() or Claim.objects.create(
        case=world.case,
        user=author,
        purpose="annotate",
        expires_at=timezone.now() + datetime.timedelta(minutes=30),
    )
    return claim.pk


def _candidate_model() -> int:
    """A registered candidate model whose contract does not load (refused on promotion)."""
    from inference.models import ModelVersion

    version, _ = ModelVersion.objects.get_or_create(
        task="sagittal", sha256="0" * 64, defaults={"name": "broken", "file": "none.onnx"}
    )
    return version.pk


def _finished_report(world: World) -> int:
    """A study report of the world's project, generated once (by the real job)."""
    from reports.models import ReportJob
    from reports.services import report_request, report_run

    done = ReportJob.objects.filter(project__slug=world.slug, status="succeeded").first()
    if done is None:
        job = report_request(project=world.case.project, requested_by=None, split="all")
        report_run(job_id=job.pk)
        return job.pk
    return done.pk


def _leads_export(world: World) -> int:
    """A finished CSV export of the annotator's reads, requested by the lead (exports)."""
    from django.contrib.auth.models import User

    from exports.models import ExportJob
    from exports.run import export_run
    from exports.services import ExportRequest, export_request

    lead = User.objects.get(username="lead")
    done = ExportJob.objects.filter(created_by=lead, status="succeeded").first()
    if done is not None:
        return done.pk
    asked = ExportRequest(
        split="", selection_kind="group", selection_value="annotator", formats=("csv",)
    )
    job = export_request(project=world.case.project, user=lead, role="lead", request=asked)
    return export_run(job_id=job.pk).pk


# An export is its requester's (the lead's here): everybody else is told it does not exist.
EXPORT_OWNER = _status(anonymous=403, outsider=404, default=404, lead=200)


@dataclass(frozen=True)
class Row:
    name: str  # the URL name ("admin:" for the whole admin site)
    method: str
    path: Callable[[World], str]
    expect: dict[str, int]
    body: Callable[[World], dict[str, Any]] | None = None
    multipart: bool = False
    notes: str = field(default="", compare=False)


def _polygon_shapes(world: World) -> dict[str, Any]:
    shape = {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}
    return {str(world.image.pk): [shape]}


def _labelme(world: World) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": "5.4.1",
        "flags": {},
        "shapes": [],
        "imagePath": "x.png",
        "imageData": None,
        "imageHeight": world.series.rows,
        "imageWidth": world.series.columns,
    }
    return {"image": world.image.pk, "parent": world.head(), "data": data}


HTTP_ROWS: tuple[Row, ...] = (
    # ----- pages -----
    Row(
        "login",
        "get",
        lambda w: "/accounts/login/",
        _status(anonymous=200, outsider=200, default=200),
    ),
    Row(
        "logout",
        "post",
        lambda w: "/accounts/logout/",
        _status(anonymous=302, outsider=302, default=302),
    ),
    Row("project-list", "get", lambda w: "/", _status(anonymous=302, outsider=200, default=200)),
    Row("case-list", "get", lambda w: f"/projects/{w.slug}/", PAGE_MEMBERS),
    Row(
        "upload",
        "get",
        lambda w: f"/projects/{w.slug}/import/",
        _status(anonymous=302, outsider=404, default=200, annotator=403, reader=403),
    ),
    Row(
        "project-settings",
        "get",
        lambda w: f"/projects/{w.slug}/settings/",
        _status(anonymous=302, outsider=404, default=403, lead=200),
    ),
    Row(
        "project-settings",
        "post",
        lambda w: f"/projects/{w.slug}/settings/",
        _status(anonymous=302, outsider=404, default=403, lead=302),
        body=lambda w: {"action": "member", "username": "outsider", "role": "reader"},
        multipart=True,
    ),
    Row("case-view", "get", lambda w: f"/cases/{w.case.pk}/", PAGE_MEMBERS),
    # ----- annotation API -----
    Row("api-me", "get", lambda w: "/api/me", _status(anonymous=403, outsider=200, default=200)),
    Row(
        "api-project-list",
        "get",
        lambda w: "/api/projects",
        _status(anonymous=403, outsider=200, default=200),
    ),
    Row("api-project", "get", lambda w: f"/api/projects/{w.slug}", API_MEMBERS),
    Row("api-case-list", "get", lambda w: f"/api/projects/{w.slug}/cases", API_MEMBERS),
    Row(
        "api-imports",
        "post",
        lambda w: f"/api/projects/{w.slug}/imports",
        _status(anonymous=403, outsider=404, default=400, annotator=403, reader=403),
        body=lambda w: {},
        multipart=True,
    ),
    Row("api-case", "get", lambda w: f"/api/cases/{w.case.pk}", API_MEMBERS),
    Row("api-case-reads", "get", lambda w: f"/api/cases/{w.case.pk}/reads", API_MEMBERS),
    Row(
        "api-case-reads",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/reads",
        # Everyone gets their own read (the annotator's exists already).
        _status(anonymous=403, outsider=404, default=201, annotator=200),
    ),
    Row("api-image-pixels", "get", lambda w: f"/api/images/{w.image.pk}/pixels", API_MEMBERS),
    Row(
        "api-series-thumbnail",
        "get",
        lambda w: f"/api/series/{w.series.pk}/thumbnail",
        API_MEMBERS,
    ),
    Row("api-read", "get", lambda w: f"/api/reads/{w.read.pk}", SEES_ANNOTATORS_READ),
    Row(
        "api-revisions",
        "get",
        lambda w: f"/api/reads/{w.read.pk}/revisions",
        SEES_ANNOTATORS_READ,
    ),
    Row(
        "api-revisions",
        "post",
        lambda w: f"/api/reads/{w.read.pk}/revisions",
        WRITES_ANNOTATORS_READ,
        body=lambda w: {"parent": w.head(), "shapes": _polygon_shapes(w)},
    ),
    Row(
        "api-restore",
        "post",
        lambda w: f"/api/reads/{w.read.pk}/restore",
        WRITES_ANNOTATORS_READ,
        body=lambda w: {"revision": w.first_revision.pk, "parent": w.head()},
    ),
    Row(
        "api-revision",
        "get",
        lambda w: f"/api/revisions/{w.first_revision.pk}",
        SEES_ANNOTATORS_READ,
    ),
    Row(
        "api-image-labelme",
        "get",
        lambda w: f"/api/images/{w.image.pk}/labelme?revision={w.first_revision.pk}",
        SEES_ANNOTATORS_READ,
    ),
    Row(
        "api-labelme",
        "post",
        lambda w: f"/api/reads/{w.read.pk}/labelme",
        WRITES_ANNOTATORS_READ,
        body=_labelme,
    ),
    # ----- review and gold standard (issue 9): reviewers and leads adjudicate -----
    Row("case-review", "get", lambda w: f"/cases/{w.case.pk}/review", REVIEWERS_PAGE),
    Row("api-case-review", "get", lambda w: f"/api/cases/{w.case.pk}/review", REVIEWERS),
    Row(
        "api-case-review-measurements",
        "get",
        lambda w: f"/api/cases/{w.case.pk}/review/measurements",
        REVIEWERS,
    ),
    Row(
        "api-gold",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/gold",
        # The reviewer creates the gold read; the lead then opens the same one.
        _status(anonymous=403, outsider=404, default=403, reviewer=201, lead=200),
    ),
    Row(
        "api-gold-compose",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/gold/compose",
        REVIEWERS_WRITE,
        body=lambda w: {},
    ),
    Row(
        "api-gold-sign",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/gold/sign",
        REVIEWERS_WRITE,
        body=lambda w: {},
    ),
    Row(
        "api-case-return",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/return",
        # Allowed, then refused by the state machine: the case is new, not in review.
        _status(anonymous=403, outsider=404, default=403, reviewer=409, lead=409),
    ),
    Row("api-case-comments", "get", lambda w: f"/api/cases/{w.case.pk}/comments", API_MEMBERS),
    Row(
        "api-case-comments",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/comments",
        _status(anonymous=403, outsider=404, default=400),
        body=lambda w: {},
    ),
    Row(
        "api-comment-resolve",
        "post",
        # A fresh thread of the annotator's on their read for each role: its author and the
        # reviewers resolve it; the blinded reader does not see it.
        lambda w: f"/api/cases/{w.case.pk}/comments/{_annotator_comment(w)}/resolve",
        _status(anonymous=403, outsider=404, default=200, reader=404),
    ),
    # ----- case history (issue 9 §7): every member, each seeing what blinding allows -----
    Row("case-history", "get", lambda w: f"/cases/{w.case.pk}/history", PAGE_MEMBERS),
    Row("api-case-history", "get", lambda w: f"/api/cases/{w.case.pk}/history", API_MEMBERS),
    Row("api-queue-counts", "get", lambda w: f"/api/projects/{w.slug}/queue/counts", API_MEMBERS),
    # ----- study design, work queues, submit (issue 9): see tests/annotation/test_queue.py -----
    Row("api-design", "get", lambda w: f"/api/projects/{w.slug}/design", REVIEWERS),
    Row("api-design", "put", lambda w: f"/api/projects/{w.slug}/design", LEAD_WRITE, body=_empty),
    Row(
        "api-design-splits",
        "post",
        lambda w: f"/api/projects/{w.slug}/design/splits",
        LEAD_WRITE,
        body=_empty,
    ),
    # Every member has a queue (the annotator gets the case; the others owe nothing here).
    Row("api-queue-next", "post", lambda w: f"/api/projects/{w.slug}/queue/next", API_MEMBERS),
    Row(
        "api-claims",
        "get",
        lambda w: f"/api/projects/{w.slug}/claims",
        _status(anonymous=403, outsider=404, default=403, lead=200),
    ),
    Row(
        "api-claim-renew",
        "post",
        lambda w: f"/api/claims/{_annotators_claim(w)}/renew",
        # Only its holder: to anybody else it is not theirs.
        _status(anonymous=403, outsider=404, default=404, annotator=200),
    ),
    Row(
        "api-claim-release",
        "post",
        lambda w: f"/api/claims/{_annotators_claim(w)}/release",
        _status(anonymous=403, outsider=404, default=403, annotator=204, lead=204),
    ),
    Row(
        "api-claim-reassign",
        "post",
        lambda w: f"/api/claims/{_annotators_claim(w)}/reassign",
        LEAD_WRITE,
        body=_empty,
    ),
    Row(
        "api-read-submit",
        "post",
        lambda w: f"/api/reads/{w.read.pk}/submit",
        # The annotator's read lacks the template's shapes: allowed, then refused (422).
        _status(anonymous=403, outsider=404, default=403, annotator=422, reader=404),
    ),
    Row("api-read-check", "get", lambda w: f"/api/reads/{w.read.pk}/check", SEES_ANNOTATORS_READ),
    Row(
        "api-case-reopen",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/reopen",
        # Allowed, then refused: the case is new, not gold.
        _status(anonymous=403, outsider=404, default=403, reviewer=409, lead=409),
        body=lambda w: {"reason": "recheck"},
    ),
    # ----- inference API -----
    Row(
        "api-case-prelabel",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/prelabel",
        _status(anonymous=403, outsider=404, default=202, reader=403),
    ),
    Row("api-case-jobs", "get", lambda w: f"/api/cases/{w.case.pk}/jobs", API_MEMBERS),
    Row(
        "api-project-prelabel",
        "post",
        lambda w: f"/api/projects/{w.slug}/prelabel",
        _status(anonymous=403, outsider=404, default=202, annotator=403, reader=403),
        body=lambda w: {"cases": []},
    ),
    Row(
        "api-project-jobs",
        "get",
        lambda w: f"/api/projects/{w.slug}/jobs?cases={w.case.pk}",
        API_MEMBERS,
    ),
    Row("api-job", "get", lambda w: f"/api/jobs/{w.job.pk}", API_MEMBERS),
    # The model read is every member's here (no unaided role): so are its suggestions.
    Row(
        "api-read-suggestions",
        "get",
        lambda w: f"/api/reads/{w.model_read.pk}/suggestions",
        API_MEMBERS,
    ),
    Row(
        "api-project-retrain",
        "post",
        lambda w: f"/api/projects/{w.slug}/retrain",
        LEAD_WRITE,  # the lead is let through, then refused: no gold to train on
        body=lambda w: {"task": "sagittal"},
    ),
    Row(
        "api-project-retrain-jobs",
        "get",
        lambda w: f"/api/projects/{w.slug}/retrain/jobs",
        API_MEMBERS,
    ),
    Row("api-models", "get", lambda w: f"/api/projects/{w.slug}/models", API_MEMBERS),
    Row(
        "api-model-promote",
        "post",
        lambda w: f"/api/projects/{w.slug}/models/{_candidate_model()}/promote",
        LEAD_WRITE,  # the lead is let through, then refused: its contract does not load
    ),
    Row(
        "api-model-activate",
        "post",
        lambda w: f"/api/projects/{w.slug}/models/{_candidate_model()}/activate",
        LEAD_WRITE,
    ),
    Row("api-project-strategy", "get", lambda w: f"/api/projects/{w.slug}/strategy", API_MEMBERS),
    Row(
        "api-project-strategy",
        "put",
        lambda w: f"/api/projects/{w.slug}/strategy",
        _status(anonymous=403, outsider=404, default=403, lead=200),
        body=lambda w: {"strategy": "first"},
    ),
    Row(
        "api-project-corrections", "get", lambda w: f"/api/projects/{w.slug}/corrections", REVIEWERS
    ),
    # ----- measurements API -----
    Row(
        "api-revision-measurements",
        "get",
        lambda w: f"/api/revisions/{w.first_revision.pk}/measurements",
        SEES_ANNOTATORS_READ,
    ),
    Row(
        "api-measure",
        "post",
        lambda w: f"/api/cases/{w.case.pk}/measure",
        API_MEMBERS,
        body=lambda w: {"shapes": {}},
    ),
    # ----- per-case measurement page (issue 12 §3): every member; the reads are blinded -----
    Row("case-measurements", "get", lambda w: f"/cases/{w.case.pk}/measurements", PAGE_MEMBERS),
    Row(
        "api-case-measurements",
        "get",
        lambda w: f"/api/cases/{w.case.pk}/measurements",
        API_MEMBERS,
    ),
    Row("project-models", "get", lambda w: f"/projects/{w.slug}/models/", REVIEWERS_PAGE),
    # ----- dashboard pages (issue 12): leads and reviewers; the figures come from the API -----
    Row(
        "dashboard-progress",
        "get",
        lambda w: f"/projects/{w.slug}/dashboards/progress",
        REVIEWERS_PAGE,
    ),
    Row(
        "dashboard-agreement",
        "get",
        lambda w: f"/projects/{w.slug}/dashboards/agreement",
        REVIEWERS_PAGE,
    ),
    # ----- PACS (issue 15 §3): leads only; an empty body or query is refused after the check -----
    Row("pacs", "get", lambda w: f"/projects/{w.slug}/pacs/", LEADS_PAGE),
    Row("api-pacs-connection", "get", lambda w: f"/api/projects/{w.slug}/pacs/connection", LEADS),
    Row(
        "api-pacs-connection",
        "put",
        lambda w: f"/api/projects/{w.slug}/pacs/connection",
        LEAD_WRITE,
    ),
    Row("api-pacs-studies", "get", lambda w: f"/api/projects/{w.slug}/pacs/studies", LEAD_WRITE),
    Row("api-pacs-imports", "get", lambda w: f"/api/projects/{w.slug}/pacs/imports", LEADS),
    Row("api-pacs-imports", "post", lambda w: f"/api/projects/{w.slug}/pacs/imports", LEAD_WRITE),
    Row(
        "api-pacs-import",
        "get",
        lambda w: f"/api/projects/{w.slug}/pacs/imports/{_pacs_import(w)}",
        LEADS,
    ),
    Row(
        "api-pacs-import-retry",
        "post",
        lambda w: f"/api/projects/{w.slug}/pacs/imports/{_pacs_import(w)}/retry",
        _status(anonymous=403, outsider=404, default=403, lead=409),  # a queued job is not retried
    ),
    # ----- study reports: only members who may see every read (blinded: reviewers, leads) -----
    Row(
        "api-reports",
        "post",
        lambda w: f"/api/projects/{w.slug}/reports",
        _status(anonymous=403, outsider=404, default=403, reviewer=202, lead=202),
    ),
    Row("api-reports", "get", lambda w: f"/api/projects/{w.slug}/reports", REVIEWERS),
    Row("api-report", "get", lambda w: f"/api/reports/{_finished_report(w)}", REVIEWERS),
    Row(
        "api-report-html",
        "get",
        lambda w: f"/api/reports/{_finished_report(w)}/report.html",
        REVIEWERS,
    ),
    Row(
        "api-report-csv",
        "get",
        lambda w: f"/api/reports/{_finished_report(w)}/report.csv",
        REVIEWERS,
    ),
    Row("project-reports", "get", lambda w: f"/projects/{w.slug}/reports", REVIEWERS_PAGE),
    # ----- public API (issue 15 §2): schema and docs for anyone; my own tokens -----
    Row(
        "api-schema",
        "get",
        lambda w: "/api/schema/",
        _status(anonymous=200, outsider=200, default=200),
    ),
    Row(
        "api-docs", "get", lambda w: "/api/docs/", _status(anonymous=200, outsider=200, default=200)
    ),
    Row(
        "profile",
        "get",
        lambda w: "/accounts/profile/",
        _status(anonymous=302, outsider=200, default=200),
    ),
    Row(
        "api-tokens",
        "get",
        lambda w: "/api/me/tokens",
        _status(anonymous=403, outsider=200, default=200),
    ),
    Row(
        "api-tokens",
        "post",
        lambda w: "/api/me/tokens",
        _status(anonymous=403, outsider=400, default=400),  # every user; the name is missing
    ),
    Row(
        "api-token",
        "delete",
        lambda w: f"/api/me/tokens/{_annotators_token()}",
        _status(anonymous=403, outsider=404, default=404, annotator=204),  # only its owner
    ),
    # ----- the admin site (when enabled): staff only, and nobody in the cast is staff -----
    Row("admin:", "get", lambda w: "/admin/", _status(anonymous=302, outsider=302, default=302)),
    # ----- dashboards: read-only, for those who see every read (reviewers and leads) -----
    Row(
        "api-dashboard-progress",
        "get",
        lambda w: f"/api/projects/{w.slug}/dashboard/progress",
        REVIEWERS,
    ),
    Row(
        "api-dashboard-agreement",
        "get",
        lambda w: f"/api/projects/{w.slug}/dashboard/agreement",
        REVIEWERS,
    ),
)

HTTP_ROWS += (
    # ----- exports (issue 15): leads and reviewers; each export is its requester's -----
    Row(
        "api-project-exports",
        "post",
        lambda w: f"/api/projects/{w.slug}/exports",
        _status(anonymous=403, outsider=404, default=403, reviewer=202, lead=202),
        body=lambda w: {
            "selection": {"kind": "group", "value": "annotator"},
            "formats": ["csv"],
        },
    ),
    Row("api-project-exports", "get", lambda w: f"/api/projects/{w.slug}/exports", REVIEWERS),
    Row(
        "api-project-export-formats",
        "get",
        lambda w: f"/api/projects/{w.slug}/exports/formats",
        REVIEWERS,
    ),
    Row("api-export", "get", lambda w: f"/api/exports/{_leads_export(w)}", EXPORT_OWNER),
    Row(
        "api-export-download",
        "get",
        lambda w: f"/api/exports/{_leads_export(w)}/download",
        EXPORT_OWNER,
    ),
    Row("project-exports", "get", lambda w: f"/projects/{w.slug}/exports", REVIEWERS_PAGE),
)

WS_ROWS: dict[str, Callable[[World], str]] = {
    "ws/cases/<int:case_id>/": lambda w: f"/ws/cases/{w.case.pk}/",
    "ws/projects/<slug:slug>/": lambda w: f"/ws/projects/{w.slug}/",
}
WS_ALLOWED = frozenset(MEMBERS)


@pytest.fixture
def world(project, cast: dict[str, User], case: Case) -> World:
    image = Image.objects.select_related("series").filter(series__case=case).earliest("id")
    series = image.series
    series.thumbnail = b"\x89PNG\r\n\x1a\n"
    series.save(update_fields=["thumbnail"])
    read = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["annotator"])
    shapes = {
        str(image.pk): [
            {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}
        ]
    }
    first = revision_create(read=read, parent_id=None, shapes=shapes, author=cast["annotator"])
    model_read = Read.objects.create(case=case, kind=ReadKind.MODEL, name="model")
    revision_create(read=model_read, parent_id=None, shapes=shapes)
    job = PrelabelJob.objects.create(case=case)
    return World(
        case=case,
        image=image,
        series=series,
        read=read,
        model_read=model_read,
        first_revision=first,
        job=job,
        slug=project.slug,
    )


def _request(client: Client, row: Row, world: World) -> Any:
    url = row.path(world)
    if row.method == "get":
        return client.get(url)
    body = row.body(world) if row.body is not None else {}
    if row.multipart:
        return client.post(url, data=body)
    if row.method == "delete":
        return client.delete(url)
    send = client.put if row.method == "put" else client.post
    return send(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("row", HTTP_ROWS, ids=lambda r: f"{r.method.upper()} {r.name}")
def test_each_endpoint_answers_each_role_as_the_matrix_says(clients, world, row) -> None:
    # The admin is off unless ADMIN_ENABLED: then its address is simply not there.
    expect = row.expect if row.name in _http_routes() else dict.fromkeys(ROLES, 404)
    answers = {}
    for role in ROLES:
        answers[role] = _request(clients[role], row, world).status_code
    assert answers == expect


# ----- completeness: the table covers every route -----


def _http_routes() -> dict[str, set[str]]:
    """URL name → the methods its view answers (all of them for plain function views)."""
    routes: dict[str, set[str]] = {}

    def walk(patterns: list[Any]) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    routes["admin:"] = {"get"}
                else:
                    walk(entry.url_patterns)
            elif isinstance(entry, URLPattern):
                assert entry.name, f"route {entry.pattern} has no name"
                routes[entry.name] = _methods(entry.callback)

    walk(get_resolver().url_patterns)
    return routes


def _methods(callback: Any) -> set[str]:
    view_class = getattr(callback, "view_class", None)
    if view_class is not None and issubclass(view_class, APIView):
        return {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)}
    return set()  # a page or function view: at least one row, whichever methods it takes


def test_every_http_route_has_a_row_for_each_of_its_methods() -> None:
    covered: dict[str, set[str]] = {}
    for row in HTTP_ROWS:
        covered.setdefault(row.name, set()).add(row.method)
    routes = _http_routes()
    missing = {
        name: sorted(methods - covered.get(name, set()))
        for name, methods in routes.items()
        if name not in covered or methods - covered[name]
    }
    assert missing == {}, f"endpoints without a row in the permission matrix: {missing}"
    stale = set(covered) - set(routes)
    assert stale <= {"admin:"}, f"rows for routes that no longer exist: {stale}"


def test_every_websocket_route_has_a_row() -> None:
    from config.routing import websocket_urlpatterns

    assert {str(p.pattern) for p in websocket_urlpatterns} == set(WS_ROWS)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", sorted(WS_ROWS))
async def test_each_websocket_group_admits_members_only(
    channel_layer, clients, world, route
) -> None:
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator

    from config.asgi import router

    path = await sync_to_async(WS_ROWS[route])(world)
    answers = {}
    for role in ROLES:
        cookie = clients[role].cookies.get("sessionid")
        headers = [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")]
        if cookie is not None:
            headers.append((b"cookie", f"sessionid={cookie.value}".encode()))
        socket = WebsocketCommunicator(router, path, headers=headers)
        connected, _ = await socket.connect()
        answers[role] = connected
        await socket.disconnect()
    assert answers == {role: role in WS_ALLOWED for role in ROLES}
