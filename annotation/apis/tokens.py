"""Personal API tokens of the signed-in user: list, create (the secret shown once), revoke.

Tokens are managed only from a signed-in session: a token cannot mint or revoke tokens
(a token limited to one project must not make itself an unlimited one).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.pagination import PageParams, page_params, page_response, page_slice, paginated
from annotation.apis.serializers import IsoDateTimeField
from annotation.auth import request_user
from annotation.models import ApiToken
from annotation.permissions import require
from annotation.selectors.tokens import token_list
from annotation.services.tokens import token_create, token_revoke
from annotation.tokens import via_token


class TokenSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="the token's first characters, to tell it apart")
    projects = serializers.SerializerMethodField(
        help_text="slugs the token is limited to; empty: all of the user's projects"
    )
    created_at = IsoDateTimeField()
    last_used_at = IsoDateTimeField(allow_null=True)

    def get_projects(self, token: ApiToken) -> list[str]:
        return sorted(project.slug for project in token.projects.all())


class CreatedTokenSerializer(TokenSerializer):
    token = serializers.SerializerMethodField(help_text="the secret: shown only in this reply")

    def get_token(self, _token: ApiToken) -> str:
        return str(self.context["secret"])


def _session_user(request: Request) -> User:
    user = request_user(request)
    require(not via_token(user), "API tokens are managed from a signed-in session, not a token.")
    return user


class TokenListApi(APIView):
    class FilterSerializer(PageParams):
        pass

    class InputSerializer(serializers.Serializer[Any]):
        name = serializers.CharField(max_length=100, trim_whitespace=True)
        projects = serializers.ListField(
            child=serializers.SlugField(max_length=64),
            required=False,
            default=list,
            max_length=200,
            help_text="project slugs to limit the token to; omit for all your projects",
        )

    @paginated(TokenSerializer, params=FilterSerializer)
    def get(self, request: Request) -> Response:
        user = _session_user(request)
        params = page_params(request, self.FilterSerializer)
        rows, total = page_slice(
            token_list(user=user), limit=params["limit"], offset=params["offset"]
        )
        data = TokenSerializer(rows, many=True).data
        return page_response(
            request, data, total=total, limit=params["limit"], offset=params["offset"]
        )

    @extend_schema(request=InputSerializer, responses={201: CreatedTokenSerializer})
    def post(self, request: Request) -> Response:
        user = _session_user(request)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, secret = token_create(
            user=user, name=body.validated_data["name"], projects=body.validated_data["projects"]
        )
        reply = CreatedTokenSerializer(token, context={"secret": secret})
        return Response(reply.data, status=status.HTTP_201_CREATED)


class TokenDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        token_revoke(user=_session_user(request), token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
