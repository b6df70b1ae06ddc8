"""The models page (active learning): selection strategy, retraining runs, model versions and
what the model gets wrong. Leads and reviewers see it; leads act on it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotation.permissions import may_change_settings, may_view_dashboard, require
from annotation.selectors.access import access_project


@login_required
def models_view(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = access_project(user=request.user, slug=slug)
    require(may_view_dashboard(role=role), "only the project's leads and reviewers see its models")
    return render(
        request,
        "inference/models.html",
        {
            "project": project,
            "role": role,
            "may_manage": may_change_settings(role=role),
            "may_see_corrections": may_view_dashboard(role=role),
        },
    )
