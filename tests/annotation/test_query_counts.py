"""Every list and detail GET of the annotation app answers with as many queries for 200 rows
(cases, series, images, reads, revisions, projects, members) as for 10; and every GET route
of the product has such a case here or in the inference and measurements tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from annotation.models import Case, Image, Project, Read
from tests.annotation.api_query_cases import API_ENDPOINTS
from tests.annotation.history_query_cases import HISTORY_ENDPOINTS
from tests.annotation.review_query_cases import REVIEW_ENDPOINTS
from tests.annotation.workflow_query_cases import WORKFLOW_ENDPOINTS
from tests.factories import (
    make_cases_bulk,
    make_memberships,
    make_projects,
    make_reads,
    make_revisions,
    make_users,
)
from tests.query_counts import Endpoint, assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def _member(role: str, *, blinded: bool = True) -> tuple[Project, User, Client]:
    """A new project with one member in `role`, signed in."""
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role=role)[0]
    if not blinded:
        Project.objects.filter(pk=project.pk).update(blinded=False)
    client = Client()
    client.force_login(user)
    return project, user, client


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _user_in_projects(n: int) -> tuple[User, list[Project]]:
    user = make_users(count=1)[0]
    projects = make_projects(count=n, members=[user], role="annotator")
    Case.objects.bulk_create(
        Case(project=p, pseudonym=f"C-{p.pk}", source_key=f"c-{p.pk}") for p in projects
    )
    return user, projects


def me(n: int) -> tuple[Client, str]:
    user, _ = _user_in_projects(n)
    return _signed_in(user), "/api/me"


def project_list(n: int) -> tuple[Client, str]:
    user, _ = _user_in_projects(n)
    return _signed_in(user), "/api/projects"


def project_list_page(n: int) -> tuple[Client, str]:
    user, _ = _user_in_projects(n)
    return _signed_in(user), "/"


def _project_with_members_and_cases(n: int) -> tuple[Project, Client]:
    project, _, client = _member("lead")
    make_memberships(projects=[project], users=make_users(count=n), role="annotator")
    make_cases_bulk(project=project, count=n, series=1, slices=1)
    return project, client


def project_detail(n: int) -> tuple[Client, str]:
    project, client = _project_with_members_and_cases(n)
    return client, f"/api/projects/{project.slug}"


def project_settings_page(n: int) -> tuple[Client, str]:
    project, client = _project_with_members_and_cases(n)
    return client, f"/projects/{project.slug}/settings/"


def upload_page(n: int) -> tuple[Client, str]:
    project, client = _project_with_members_and_cases(n)
    return client, f"/projects/{project.slug}/import/"


def _cases_with_reads(n: int, role: str) -> tuple[Project, Client]:
    """n cases of two series, each with the member's read, another annotator's and a model
    read."""
    project, user, client = _member(role)
    other = make_users(count=1)[0]
    make_memberships(projects=[project], users=[other], role="annotator")
    cases = make_cases_bulk(project=project, count=n)
    Read.objects.bulk_create(
        Read(case=case, kind="human", author=author) for case in cases for author in (user, other)
    )
    Read.objects.bulk_create(Read(case=case, kind="model", name="model") for case in cases)
    return project, client


def case_list_as(role: str) -> Endpoint:
    def build(n: int) -> tuple[Client, str]:
        project, client = _cases_with_reads(n, role)
        return client, f"/api/projects/{project.slug}/cases?page_size=500"

    return Endpoint("api-case-list", build, f"cases, as {role}")


def case_list_view_as(role: str, view: str) -> Endpoint:
    """The list's views (mine, to do, done) filter on the same annotated subqueries."""

    def build(n: int) -> tuple[Client, str]:
        project, client = _cases_with_reads(n, role)
        return client, f"/api/projects/{project.slug}/cases?page_size=500&view={view}"

    return Endpoint("api-case-list", build, f"cases in view {view}, as {role}")


def case_list_page(n: int) -> tuple[Client, str]:
    # The page shows 100 cases: 10 against 100 rows.
    project, client = _cases_with_reads(n, "reviewer")
    return client, f"/projects/{project.slug}/"


def _case_of_series(n: int) -> tuple[Case, Client]:
    project, _, client = _member("annotator")
    return make_cases_bulk(project=project, count=1, series=n, slices=2)[0], client


def _case_of_images(n: int) -> tuple[Case, Client]:
    project, _, client = _member("annotator")
    return make_cases_bulk(project=project, count=1, series=1, slices=n)[0], client


def case_detail_series(n: int) -> tuple[Client, str]:
    case, client = _case_of_series(n)
    return client, f"/api/cases/{case.pk}"


def case_detail_images(n: int) -> tuple[Client, str]:
    case, client = _case_of_images(n)
    return client, f"/api/cases/{case.pk}"


def case_page(n: int) -> tuple[Client, str]:
    case, client = _case_of_series(n)
    return client, f"/cases/{case.pk}/"


def case_reads_as(role: str) -> Endpoint:
    def build(n: int) -> tuple[Client, str]:
        project, user, client = _member(role, blinded=role != "reader")
        case = make_cases_bulk(project=project, count=1)[0]
        authors = make_users(count=n)
        make_memberships(projects=[project], users=authors, role="annotator")
        make_reads(case=case, authors=[*authors, user], revisions=2)
        models = Read.objects.bulk_create(
            Read(case=case, kind="model", name=f"model #{i}") for i in range(n)
        )
        image = Image.objects.filter(series__case=case).earliest("id")
        make_revisions(reads=models, count=1, images=[image])
        return client, f"/api/cases/{case.pk}/reads"

    return Endpoint("api-case-reads", build, f"human and model reads, as {role}")


def _read_of_revisions(n: int) -> tuple[Read, list[Image], Client]:
    """A read of the member's with n revisions, each with a polygon on n images."""
    project, user, client = _member("annotator")
    case = _case_of_images_in(project, n)
    images = list(Image.objects.filter(series__case=case).order_by("index"))
    read = Read.objects.create(case=case, kind="human", author=user)
    make_revisions(reads=[read], count=n, images=images)
    return read, images, client


def _case_of_images_in(project: Project, n: int) -> Case:
    return make_cases_bulk(project=project, count=1, series=1, slices=n)[0]


def read_detail(n: int) -> tuple[Client, str]:
    read, _, client = _read_of_revisions(n)
    return client, f"/api/reads/{read.pk}"


def revision_history(n: int) -> tuple[Client, str]:
    read, _, client = _read_of_revisions(n)
    return client, f"/api/reads/{read.pk}/revisions"


def revision_detail(n: int) -> tuple[Client, str]:
    read, _, client = _read_of_revisions(n)
    return client, f"/api/revisions/{read.head_id}"


def labelme_export(n: int) -> tuple[Client, str]:
    read, images, client = _read_of_revisions(n)
    return client, f"/api/images/{images[0].pk}/labelme?revision={read.head_id}"


def pixels(n: int) -> tuple[Client, str]:
    case, client = _case_of_images(n)
    image = Image.objects.filter(series__case=case).order_by("index")[n // 2]
    return client, f"/api/images/{image.pk}/pixels"


def thumbnail(n: int) -> tuple[Client, str]:
    case, client = _case_of_images(n)
    series = case.series.get()
    series.thumbnail = b"\x89PNG\r\n\x1a\n"  # served as stored
    series.save(update_fields=["thumbnail"])
    return client, f"/api/series/{series.pk}/thumbnail"


ENDPOINTS = [
    Endpoint("api-me", me, "memberships"),
    Endpoint("api-project-list", project_list, "projects"),
    Endpoint("project-list", project_list_page, "projects"),
    Endpoint("api-project", project_detail, "members and cases"),
    Endpoint("project-settings", project_settings_page, "members and cases"),
    Endpoint("upload", upload_page, "members and cases"),
    case_list_as("lead"),
    case_list_as("reader"),
    case_list_view_as("annotator", "mine"),
    case_list_view_as("reviewer", "todo"),
    Endpoint("case-list", case_list_page, "cases"),
    Endpoint("api-case", case_detail_series, "series"),
    Endpoint("api-case", case_detail_images, "images"),
    Endpoint("case-view", case_page, "series"),
    case_reads_as("lead"),
    case_reads_as("reader"),
    Endpoint("api-read", read_detail, "revisions and shaped images"),
    Endpoint("api-revisions", revision_history, "revisions"),
    Endpoint("api-revision", revision_detail, "revisions and shaped images"),
    Endpoint("api-image-labelme", labelme_export, "revisions and shaped images"),
    Endpoint("api-image-pixels", pixels, "images of the series"),
    Endpoint("api-series-thumbnail", thumbnail, "images of the series"),
    *REVIEW_ENDPOINTS,
    *WORKFLOW_ENDPOINTS,
    *HISTORY_ENDPOINTS,
    *API_ENDPOINTS,
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_get_makes_as_many_queries_for_200_rows_as_for_10(endpoint: Endpoint) -> None:
    assert_queries_do_not_grow(endpoint)


# GET routes with nothing to scale, each with the reason.
WITHOUT_ROWS = {
    "login": "the sign-in form",
    "api-schema": "the OpenAPI document, generated from the code (no database rows)",
    "api-docs": "Swagger UI's page shell; it fetches the schema",
    "pacs": "the PACS page shell (leads only); its rows come from the API",
    "api-pacs-connection": "one row per project (leads only)",
    "api-pacs-studies": "rows come from the PACS; one query finds the imported pseudonyms of all",
}


def _routes(patterns: list[Any]) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":  # Django's own admin
                yield from _routes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, pattern.callback


def _answers_get(view: Any) -> bool:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    if view_class is None:
        return True  # a function view: every page and pixel route answers GET
    return "get" in view_class.http_method_names and hasattr(view_class, "get")


def test_every_get_route_has_a_query_count_case() -> None:
    from tests.dashboards.test_dashboard_pages import ENDPOINTS as DASHBOARD_PAGES
    from tests.dashboards.test_query_counts import ENDPOINTS as DASHBOARD_API
    from tests.exports.test_query_counts import ENDPOINTS as EXPORTS
    from tests.inference.test_query_counts import ENDPOINTS as INFERENCE
    from tests.measurements.test_query_counts import ENDPOINTS as MEASUREMENTS
    from tests.pacs.test_query_counts import ENDPOINTS as PACS
    from tests.reports.test_query_counts import ENDPOINTS as REPORTS

    routes = {name for name, view in _routes(get_resolver().url_patterns) if _answers_get(view)}
    covered = {
        e.route
        for e in [
            *ENDPOINTS,
            *INFERENCE,
            *MEASUREMENTS,
            *DASHBOARD_PAGES,
            *REPORTS,
            *EXPORTS,
            *DASHBOARD_API,
            *PACS,
        ]
    }
    assert routes - covered - set(WITHOUT_ROWS) == set()
    assert covered - routes == set(), "query-count cases of routes that do not answer GET"
