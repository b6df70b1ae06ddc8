"""Projects and the signed-in user."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.models import Membership
from annotation.selectors.access import access_project
from annotation.selectors.cases import project_list_for_user


class MeApi(APIView):
    def get(self, request: Request) -> Response:
        user = request_user(request)
        memberships = Membership.objects.filter(user_id=user.pk).select_related("project")
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "memberships": [{"project": m.project.slug, "role": m.role} for m in memberships],
            }
        )


class ProjectListApi(APIView):
    def get(self, request: Request) -> Response:
        return Response(project_list_for_user(user=request_user(request)))


class ProjectDetailApi(APIView):
    class OutputSerializer(serializers.Serializer[object]):
        slug = serializers.CharField()
        name = serializers.CharField()
        description = serializers.CharField()
        template = serializers.JSONField()
        blinded = serializers.BooleanField()

    def get(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        data = dict(self.OutputSerializer(project).data)
        data["role"] = role
        return Response(data)
