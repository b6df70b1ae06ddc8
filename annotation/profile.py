"""The profile page: who I am, my projects, and my personal API tokens (the token list
and its create/revoke buttons are the TypeScript page's, on /api/me/tokens)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotation.models import Membership


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user_id=request.user.pk or 0)
        .select_related("project")
        .order_by("project__name")
    )
    projects = [{"slug": m.project.slug, "name": m.project.name} for m in memberships]
    return render(
        request,
        "annotation/profile.html",
        {"memberships": memberships, "projects": projects},
    )
