"""Pre-label requests and job status."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Max, Model, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.pagination import (
    MAX_LIMIT,
    DateRangeParams,
    PageParams,
    list_response,
    page_params,
    paginated,
)
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
from inference.models import (
    JobStatus,
    ModelStatus,
    ModelTask,
    ModelVersion,
    PrelabelJob,
    RetrainJob,
    RetrainTrigger,
)
from inference.serializers import (
    JobOutputSerializer,
    ModelVersionOutputSerializer,
    RetrainJobOutputSerializer,
)
from inference.services.jobs import prelabel_enqueue, prelabel_enqueue_many
from inference.services.promotion import model_activate, model_promote_candidate
from inference.services.retrain import RetrainConflictError, retrain_request

J = TypeVar("J", bound=Model)

MODELS_RULE = "only the project's leads retrain, promote or roll back models"


def _filtered(jobs: QuerySet[J], params: dict[str, Any]) -> QuerySet[J]:
    """Jobs with the list's status and creation-time filters applied."""
    if params.get("status"):
        jobs = jobs.filter(status=params["status"])
    if params.get("created_after"):
        jobs = jobs.filter(created_at__gte=params["created_after"])
    if params.get("created_before"):
        jobs = jobs.filter(created_at__lt=params["created_before"])
    return jobs


class JobReplySerializer(serializers.Serializer[Any]):
    job = JobOutputSerializer()


class JobsReplySerializer(serializers.Serializer[Any]):
    jobs = JobOutputSerializer(many=True)


class RetrainReplySerializer(serializers.Serializer[Any]):
    job = RetrainJobOutputSerializer()


class CasePrelabelApi(APIView):
    @extend_schema(request=None, responses={202: JobReplySerializer})
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

    @extend_schema(request=InputSerializer, responses={202: JobsReplySerializer})
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

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: OpenApiTypes.OBJECT},
        description="{case id: its latest job}",
    )
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
    @extend_schema(responses={200: JobOutputSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        job = PrelabelJob.objects.select_related("case").filter(pk=job_id).first()
        if job is None or not may_view_project(
            role=membership_role(user=request_user(request), project_id=job.case.project_id)
        ):
            raise Http404("no such job")
        return Response(JobOutputSerializer(job).data)


class JobFilterSerializer(DateRangeParams):
    status = serializers.ChoiceField(choices=JobStatus.choices, required=False)


class CaseJobListApi(APIView):
    """The case's pre-label jobs, newest first (20 unless ``limit`` asks for more)."""

    class FilterSerializer(JobFilterSerializer):
        limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=20)

    @paginated(JobOutputSerializer, params=FilterSerializer)
    def get(self, request: Request, case_id: int) -> Response:
        case, _ = access_case(user=request_user(request), case_id=case_id)
        params = page_params(request, self.FilterSerializer)
        jobs = _filtered(PrelabelJob.objects.filter(case=case), params).order_by("-id")
        return list_response(
            request,
            jobs,
            params=params,
            serialize=lambda rows: JobOutputSerializer(rows, many=True).data,
        )


class ProjectRetrainApi(APIView):
    """A lead asks for a fine-tuning run of a task's active model on the project's gold."""

    class InputSerializer(serializers.Serializer[Any]):
        task = serializers.ChoiceField(choices=ModelTask.values)

    @extend_schema(
        request=InputSerializer, responses={202: RetrainReplySerializer, 409: OpenApiTypes.OBJECT}
    )
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
    """The project's retraining runs, newest first (50 unless ``limit`` asks for more)."""

    class FilterSerializer(JobFilterSerializer):
        limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
        task = serializers.ChoiceField(choices=ModelTask.choices, required=False)

    @paginated(RetrainJobOutputSerializer, params=FilterSerializer)
    def get(self, request: Request, slug: str) -> Response:
        project, _ = access_project(user=request_user(request), slug=slug)
        params = page_params(request, self.FilterSerializer)
        jobs = _filtered(RetrainJob.objects.filter(project=project), params)
        if params.get("task"):
            jobs = jobs.filter(task=params["task"])
        return list_response(
            request,
            jobs.order_by("-id"),
            params=params,
            serialize=lambda rows: RetrainJobOutputSerializer(rows, many=True).data,
        )


class ProjectModelListApi(APIView):
    """Every registered model version (active, candidates, retired), newest first."""

    class FilterSerializer(PageParams):
        task = serializers.ChoiceField(choices=ModelTask.choices, required=False)
        status = serializers.ChoiceField(choices=ModelStatus.choices, required=False)

    @paginated(ModelVersionOutputSerializer, params=FilterSerializer)
    def get(self, request: Request, slug: str) -> Response:
        access_project(user=request_user(request), slug=slug)
        params = page_params(request, self.FilterSerializer)
        versions = ModelVersion.objects.order_by("task", "-id")
        for name in ("task", "status"):
            if params.get(name):
                versions = versions.filter(**{name: params[name]})
        return list_response(
            request,
            versions,
            params=params,
            serialize=lambda rows: ModelVersionOutputSerializer(rows, many=True).data,
        )


class ProjectModelActivateApi(APIView):
    """Promote a candidate (`promote`) or make any earlier version active again (`activate`,
    a rollback); the next pre-label job uses it."""

    promote_only = False

    @extend_schema(request=None, responses={200: ModelVersionOutputSerializer})
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
