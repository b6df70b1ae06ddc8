"""Pre-label requests and job status."""

from __future__ import annotations

from typing import Any

from django.db.models import Max
from django.http import Http404
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.models import Case
from annotation.permissions import (
    may_change_settings,
    may_prelabel_case,
    may_prelabel_project,
    may_view_project,
    require,
)
from annotation.selectors.access import access_case, access_project, membership_role
from inference.models import ModelTask, ModelVersion, PrelabelJob, RetrainJob, RetrainTrigger
from inference.serializers import (
    JobOutputSerializer,
    ModelVersionOutputSerializer,
    RetrainJobOutputSerializer,
)
from inference.services.jobs import prelabel_enqueue, prelabel_enqueue_many
from inference.services.promotion import model_activate, model_promote_candidate
from inference.services.retrain import RetrainConflictError, retrain_request

MODELS_RULE = "only the project's leads retrain, promote or roll back models"


class CasePrelabelApi(APIView):
    def post(self, request: Request, case_id: int) -> Response:
        case, role = access_case(user=request_user(request), case_id=case_id)
        require(
            may_prelabel_case(role=role),
            "readers work unaided unless the lead enables model aid",
        )
        job = prelabel_enqueue(case=case, requested_by=request_user(request))
        return Response({"job": JobOutputSerializer(job).data}, status=status.HTTP_202_ACCEPTED)


class ProjectPrelabelApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        cases = serializers.ListField(child=serializers.IntegerField(), required=False)

    def post(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(
            may_prelabel_project(role=role), "only leads and reviewers pre-label a whole project"
        )
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        cases = Case.objects.filter(project=project).order_by("id")
        wanted = payload.validated_data.get("cases")
        if wanted is not None:
            cases = cases.filter(pk__in=wanted)
            missing = set(wanted) - set(cases.values_list("pk", flat=True))
            if missing:
                raise serializers.ValidationError(
                    {"cases": [f"not cases of this project: {sorted(missing)}"]}
                )
        jobs = prelabel_enqueue_many(cases=cases, requested_by=request_user(request))
        return Response(
            {"jobs": JobOutputSerializer(jobs, many=True).data}, status=status.HTTP_202_ACCEPTED
        )


class ProjectJobListApi(APIView):
    """The latest job of each listed case: one request for a whole case-list page."""

    class FilterSerializer(serializers.Serializer[Any]):
        cases = serializers.CharField()

        def validate_cases(self, value: str) -> list[int]:
            try:
                ids = [int(part) for part in value.split(",") if part.strip()]
            except ValueError as exc:
                raise serializers.ValidationError("a comma-separated list of case ids") from exc
            if len(ids) > 500:
                raise serializers.ValidationError("at most 500 cases")
            return ids

    def get(self, request: Request, slug: str) -> Response:
        project, _ = access_project(user=request_user(request), slug=slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        latest = (
            PrelabelJob.objects.filter(
                case__project=project, case_id__in=filters.validated_data["cases"]
            )
            .values("case_id")
            .annotate(latest=Max("id"))
            .values_list("latest", flat=True)
        )
        jobs = PrelabelJob.objects.filter(pk__in=list(latest))
        return Response({str(job.case_id): JobOutputSerializer(job).data for job in jobs})


class JobDetailApi(APIView):
    def get(self, request: Request, job_id: int) -> Response:
        job = PrelabelJob.objects.select_related("case").filter(pk=job_id).first()
        if job is None or not may_view_project(
            role=membership_role(user=request_user(request), project_id=job.case.project_id)
        ):
            raise Http404("no such job")
        return Response(JobOutputSerializer(job).data)


class CaseJobListApi(APIView):
    def get(self, request: Request, case_id: int) -> Response:
        case, _ = access_case(user=request_user(request), case_id=case_id)
        jobs = PrelabelJob.objects.filter(case=case).order_by("-id")[:20]
        return Response(JobOutputSerializer(jobs, many=True).data)


class ProjectRetrainApi(APIView):
    """A lead asks for a fine-tuning run of a task's active model on the project's gold."""

    class InputSerializer(serializers.Serializer[Any]):
        task = serializers.ChoiceField(choices=ModelTask.values)

    def post(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_change_settings(role=role), MODELS_RULE)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            job = retrain_request(
                project=project,
                task=payload.validated_data["task"],
                requested_by=request_user(request),
                trigger=RetrainTrigger.LEAD,
            )
        except RetrainConflictError as exc:
            return Response(
                {
                    "detail": str(exc),
                    "code": "retrain_running",
                    "job": RetrainJobOutputSerializer(exc.job).data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {"job": RetrainJobOutputSerializer(job).data}, status=status.HTTP_202_ACCEPTED
        )


class ProjectRetrainJobListApi(APIView):
    """The project's retraining runs, newest first (the latest 50)."""

    def get(self, request: Request, slug: str) -> Response:
        project, _ = access_project(user=request_user(request), slug=slug)
        jobs = RetrainJob.objects.filter(project=project).order_by("-id")[:50]
        return Response(RetrainJobOutputSerializer(jobs, many=True).data)


class ProjectModelListApi(APIView):
    """Every registered model version (active, candidates, retired), newest first."""

    def get(self, request: Request, slug: str) -> Response:
        access_project(user=request_user(request), slug=slug)
        versions = ModelVersion.objects.order_by("task", "-id")
        return Response(ModelVersionOutputSerializer(versions, many=True).data)


class ProjectModelActivateApi(APIView):
    """Promote a candidate (`promote`) or make any earlier version active again (`activate`,
    a rollback); the next pre-label job uses it."""

    promote_only = False

    def post(self, request: Request, slug: str, model_id: int) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_change_settings(role=role), MODELS_RULE)
        version = ModelVersion.objects.filter(pk=model_id).first()
        if version is None:
            raise Http404("no such model")
        change = model_promote_candidate if self.promote_only else model_activate
        version = change(version=version, project=project, user=request_user(request))
        return Response(ModelVersionOutputSerializer(version).data)


class ProjectModelPromoteApi(ProjectModelActivateApi):
    promote_only = True
