"""Work queues: "Next case", renewing and releasing claims, the lead's claim list and
reassignment (docs/API.md)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.apis.pagination import PageParams, list_response, page_params, paginated
from annotation.apis.serializers import AuthorSerializer, IsoDateTimeField
from annotation.apis.workflow import WorkflowApi
from annotation.auth import request_user
from annotation.models import Claim, ClaimPurpose
from annotation.permissions import may_claim, may_see_claims, require
from annotation.selectors.access import access_project, membership_role
from annotation.selectors.queue import live_claims
from annotation.services.queue import (
    ClaimNotFoundError,
    claim_reassign,
    claim_release,
    claim_renew,
    queue_next,
)


class ClaimSerializer(serializers.Serializer[Any]):
    class ClaimCaseSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        pseudonym = serializers.CharField()
        state = serializers.CharField()
        split = serializers.CharField()
        url = serializers.SerializerMethodField()

        def get_url(self, case: Any) -> str:
            return reverse("case-view", args=[case.pk])

    id = serializers.IntegerField()
    case = ClaimCaseSerializer()
    user = AuthorSerializer()
    purpose = serializers.CharField()
    slot = serializers.IntegerField()
    read = serializers.IntegerField(source="read_id", allow_null=True)
    claimed_at = IsoDateTimeField()
    expires_at = IsoDateTimeField()
    expired = serializers.SerializerMethodField()

    def get_expired(self, claim: Claim) -> bool:
        return claim.expires_at <= timezone.now()


def _claim_of_project_lead(*, request: Request, claim_id: int) -> tuple[Claim, Any]:
    """The claim, when the user leads its project (or holds it): else 404/403."""
    user = request_user(request)
    claim = Claim.objects.select_related("case", "user").filter(pk=claim_id).first()
    role = None if claim is None else membership_role(user=user, project_id=claim.case.project_id)
    if claim is None or role is None:
        raise ClaimNotFoundError(f"No claim {claim_id}.", claim=claim_id)
    return claim, role


class NextSerializer(serializers.Serializer[Any]):
    claim = ClaimSerializer(allow_null=True)
    detail = serializers.CharField(required=False)


class QueueNextApi(WorkflowApi):
    @extend_schema(request=None, responses={200: NextSerializer})
    def post(self, request: Request, slug: str) -> Response:
        user = request_user(request)
        project, role = access_project(user=user, slug=slug)
        require(may_claim(role=role), "only members of the project take its cases")
        claim = queue_next(project=project, user=user, role=role)
        if claim is None:
            return Response({"claim": None, "detail": "Nothing is left in your queue."})
        claim = Claim.objects.select_related("case", "user").get(pk=claim.pk)
        return Response({"claim": ClaimSerializer(claim).data})


class ClaimListApi(WorkflowApi):
    class FilterSerializer(PageParams):
        purpose = serializers.ChoiceField(choices=ClaimPurpose.choices, required=False)
        user = serializers.IntegerField(required=False, min_value=1, help_text="the assignee")
        case = serializers.IntegerField(required=False, min_value=1)

    @paginated(ClaimSerializer, params=FilterSerializer)
    def get(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_see_claims(role=role), "only the project's lead sees everybody's claims")
        params = page_params(request, self.FilterSerializer)
        claims = live_claims(project=project)
        if params.get("purpose"):
            claims = claims.filter(purpose=params["purpose"])
        if params.get("user"):
            claims = claims.filter(user_id=params["user"])
        if params.get("case"):
            claims = claims.filter(case_id=params["case"])
        return list_response(
            request,
            claims,
            params=params,
            serialize=lambda rows: ClaimSerializer(rows, many=True).data,
        )


class ClaimRenewApi(WorkflowApi):
    @extend_schema(request=None, responses={200: ClaimSerializer})
    def post(self, request: Request, claim_id: int) -> Response:
        claim = claim_renew(claim_id=claim_id, user=request_user(request))
        claim = Claim.objects.select_related("case", "user").get(pk=claim.pk)
        return Response(ClaimSerializer(claim).data)


class ClaimReleaseApi(WorkflowApi):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, claim_id: int) -> Response:
        user = request_user(request)
        claim, role = _claim_of_project_lead(request=request, claim_id=claim_id)
        require(
            claim.user_id == user.pk or may_see_claims(role=role),
            "only the claim's holder or the project's lead releases it",
        )
        claim_release(claim=claim, actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClaimReassignApi(WorkflowApi):
    class InputSerializer(serializers.Serializer[Any]):
        user = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: ClaimSerializer})
    def post(self, request: Request, claim_id: int) -> Response:
        user = request_user(request)
        claim, role = _claim_of_project_lead(request=request, claim_id=claim_id)
        require(may_see_claims(role=role), "only the project's lead reassigns claims")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = claim_reassign(claim=claim, to_user_id=data.validated_data["user"], actor=user)
        new = Claim.objects.select_related("case", "user").get(pk=new.pk)
        return Response(ClaimSerializer(new).data)
