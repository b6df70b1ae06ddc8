"""The study-report page of a project: request a report, watch its progress, download it
(members who may see every read; others 403, outsiders 404)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotation.permissions import may_request_report, require
from annotation.selectors.access import access_project
from annotation.selectors.design import role_unaided
from reports.apis import REPORT_RULE
from reports.services import SPLITS


@login_required
def project_reports_view(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = access_project(user=request.user, slug=slug)
    unaided = role_unaided(project_id=project.pk, role=role)
    require(may_request_report(role=role, blinded=project.blinded, unaided=unaided), REPORT_RULE)
    return render(request, "reports/project_reports.html", {"project": project, "splits": SPLITS})
