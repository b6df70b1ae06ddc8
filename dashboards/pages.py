"""The dashboard pages (issue 12): a project's progress and its model agreement. Leads and
reviewers (``may_view_dashboard``); the figures come from ``/api/projects/{slug}/dashboard/*``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotation.permissions import may_view_dashboard, require
from annotation.selectors.access import access_project

PAGES = {"progress": "Progress", "agreement": "Model agreement"}


def _page(request: HttpRequest, slug: str, page: str) -> HttpResponse:
    project, role = access_project(user=request.user, slug=slug)
    require(
        may_view_dashboard(role=role), "only the project's leads and reviewers see its dashboards"
    )
    return render(
        request,
        "dashboards/dashboard.html",
        {"project": project, "role": role, "page": page, "title": PAGES[page]},
    )


@login_required
def progress_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, slug, "progress")


@login_required
def agreement_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, slug, "agreement")
