"""The study design: read by reviewers and leads, changed by the lead (docs/API.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.apis.workflow import WorkflowApi
from annotation.auth import request_user
from annotation.models import Project, SplitMethod, StudyDesign
from annotation.permissions import may_change_settings, may_view_design, require
from annotation.selectors.access import access_project
from annotation.selectors.design import design_of, split_counts
from annotation.services.design import SPLIT_LIST_MAX_BYTES, design_save, splits_from_list


class DesignOutputSerializer(serializers.Serializer[StudyDesign]):
    split_method = serializers.CharField()
    seed = serializers.IntegerField()
    ratios = serializers.SerializerMethodField()
    reads_required = serializers.JSONField()
    overlap_percent = serializers.IntegerField()
    aided = serializers.JSONField()
    counts = serializers.SerializerMethodField()

    def get_ratios(self, design: StudyDesign) -> dict[str, int]:
        return {"train": design.ratio_train, "tune": design.ratio_tune, "test": design.ratio_test}

    def get_counts(self, design: StudyDesign) -> dict[str, int]:
        return vars(split_counts(project=self.context["project"])).copy()


def _design_reply(project: Project) -> Response:
    design = design_of(project=project)
    return Response(DesignOutputSerializer(design, context={"project": project}).data)


class DesignApi(WorkflowApi):
    class InputSerializer(serializers.Serializer[Any]):
        class RatiosSerializer(serializers.Serializer[Any]):
            train = serializers.IntegerField(min_value=0, max_value=1000)
            tune = serializers.IntegerField(min_value=0, max_value=1000)
            test = serializers.IntegerField(min_value=0, max_value=1000)

        split_method = serializers.ChoiceField(choices=SplitMethod.choices, default="ratio")
        seed = serializers.IntegerField(min_value=0, max_value=2**62)
        ratios = RatiosSerializer()
        reads_required = serializers.DictField(child=serializers.DictField())
        overlap_percent = serializers.IntegerField(min_value=0, max_value=100)
        aided = serializers.DictField(child=serializers.BooleanField())

    @extend_schema(responses={200: DesignOutputSerializer})
    def get(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_view_design(role=role), "only reviewers and leads see the study design")
        return _design_reply(project)

    @extend_schema(request=InputSerializer, responses={200: DesignOutputSerializer})
    def put(self, request: Request, slug: str) -> Response:
        user = request_user(request)
        project, role = access_project(user=user, slug=slug)
        require(may_change_settings(role=role), "only the project's lead changes the study design")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ratios = values["ratios"]
        design_save(
            project=project,
            actor=user,
            seed=values["seed"],
            ratios=(ratios["train"], ratios["tune"], ratios["test"]),
            reads_required=values["reads_required"],
            overlap_percent=values["overlap_percent"],
            aided=values["aided"],
            split_method=values["split_method"],
        )
        return _design_reply(project)


class SplitListApi(WorkflowApi):
    """POST a CSV (pseudonym,split) as the multipart field `file` or as JSON {"csv": text}."""

    class InputSerializer(serializers.Serializer[Any]):
        csv = serializers.CharField(max_length=SPLIT_LIST_MAX_BYTES, required=False)
        file = serializers.FileField(required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "csv" not in attrs and "file" not in attrs:
                raise serializers.ValidationError({"file": "Send the list as `file` or `csv`."})
            return attrs

    @extend_schema(request=InputSerializer, responses={200: DesignOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        user = request_user(request)
        project, role = access_project(user=user, slug=slug)
        require(may_change_settings(role=role), "only the project's lead changes the study design")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        text = data.validated_data.get("csv")
        if text is None:
            upload = data.validated_data["file"]
            if upload.size > SPLIT_LIST_MAX_BYTES:
                raise serializers.ValidationError({"file": "The list is larger than 2 MiB."})
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise serializers.ValidationError({"file": "The list is not UTF-8 text."}) from exc
        splits_from_list(project=project, actor=user, text=text)
        return _design_reply(project)
