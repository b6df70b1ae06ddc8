"""The per-case measurement page: every visible read's MSCC, MCC, TA, CR and per-level values
side by side, each linked to the overlay that produced it (any member; blinding applies)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotation.apis.serializers import CaseDetailSerializer
from annotation.permissions import may_review
from annotation.selectors.access import access_case
from annotation.selectors.cases import case_detail


@login_required
def case_measurements_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case, role = access_case(user=request.user, case_id=case_id)
    return render(
        request,
        "measurements/case_measurements.html",
        {
            "case": case,
            "project": case.project,
            "role": role,
            "may_review": may_review(role=role),
            "case_payload": CaseDetailSerializer(
                case, context={"role": role, "series": case_detail(case=case)}
            ).data,
        },
    )
