"""Projects and the signed-in user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.pagination import PageParams, list_response, page_params, paginated
from annotation.apis.serializers import ProjectRowSerializer
from annotation.auth import request_user
from annotation.models import Membership, Role
from annotation.selectors.access import access_project, in_token_scope
from annotation.selectors.cases import project_list_for_user


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer[object]):
        class MembershipSerializer(serializers.Serializer[Membership]):
            project = serializers.CharField(source="project.slug")
            role = serializers.CharField()

        id = serializers.IntegerField()
        username = serializers.CharField(source="get_username")
        memberships = serializers.SerializerMethodField()

        def get_memberships(self, _user: User) -> Any:
            rows = self.context["memberships"]
            return self.MembershipSerializer(rows, many=True).data

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        user = request_user(request)
        memberships = [
            row
            for row in Membership.objects.filter(user_id=user.pk).select_related("project")
            if in_token_scope(user=user, project_id=row.project_id)
        ]
        return Response(self.OutputSerializer(user, context={"memberships": memberships}).data)


class ProjectListApi(APIView):
    class FilterSerializer(PageParams):
        role = serializers.ChoiceField(choices=Role.choices, required=False, help_text="my role")

    @paginated(ProjectRowSerializer, params=FilterSerializer)
    def get(self, request: Request) -> Response:
        user = request_user(request)
        params = page_params(request, self.FilterSerializer)
        rows = [
            row
            for row in project_list_for_user(user=user)
            if in_token_scope(user=user, project_id=row.project_id)
            and params.get("role") in (None, row.role)
        ]
        return list_response(
            request,
            rows,
            params=params,
            serialize=lambda page: ProjectRowSerializer(page, many=True).data,
        )


class ProjectDetailApi(APIView):
    class OutputSerializer(serializers.Serializer[object]):
        slug = serializers.CharField()
        name = serializers.CharField()
        description = serializers.CharField()
        template = serializers.JSONField()
        blinded = serializers.BooleanField()
        role = serializers.SerializerMethodField()

        def get_role(self, _project: object) -> str:
            return str(self.context["role"])

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        return Response(self.OutputSerializer(project, context={"role": role}).data)
