"""The PACS page: connection, study search and imports (leads only)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotation.permissions import may_use_pacs, require
from annotation.selectors.access import access_project


@login_required
def pacs_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = access_project(user=request.user, slug=slug)
    require(may_use_pacs(role=role), "only the project's leads use its PACS")
    return render(request, "pacs/pacs.html", {"project": project, "role": role})
