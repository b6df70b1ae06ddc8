"""The exports page of a project: choose split, reads and formats, follow the progress,
download the archive (leads and reviewers; others 403, outsiders 404)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotation.models import Membership, Role, Split
from annotation.permissions import may_export, require
from annotation.selectors.access import access_project
from exports.formats import formats_registered
from exports.services import EXPORT_RULE
from inference.models import ModelVersion


@login_required
def project_exports_view(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = access_project(user=request.user, slug=slug)
    require(may_export(role=role), EXPORT_RULE)
    members = (
        Membership.objects.filter(project=project, role__in=[Role.ANNOTATOR, Role.READER])
        .select_related("user")
        .order_by("user__username")
    )
    choices = {
        "project": project.slug,
        "splits": [{"value": value, "label": label} for value, label in Split.choices],
        "groups": [{"value": value, "label": label} for value, label in Role.choices],
        "people": [
            {"value": str(m.user_id), "label": f"{m.user.username} ({m.role})"} for m in members
        ],
        "models": [
            {"value": str(v.pk), "label": f"{v.task} #{v.pk} {v.name} ({v.status})"}
            for v in ModelVersion.objects.order_by("-id")[:200]
        ],
        "formats": [
            {"value": spec.name, "label": spec.title} for spec in formats_registered().values()
        ],
    }
    context = {"project": project, "choices": choices, "link_hours": settings.EXPORT_LINK_HOURS}
    return render(request, "exports/project_exports.html", context)
