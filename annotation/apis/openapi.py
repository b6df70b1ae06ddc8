"""drf-spectacular extensions: how the schema names the Bearer token and this project's
own field types (loaded with the schema views, before any schema is generated)."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "annotation.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from the profile page (/accounts/profile/).",
        }


class IsoDateTimeFieldType(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    target_class = "annotation.apis.serializers.IsoDateTimeField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> Any:
        return build_basic_type(OpenApiTypes.DATETIME)


class ProjectAutoSchema(AutoSchema):
    """Component names of serializers nested in their view (the HackSoft style:
    ``RevisionCreateApi.InputSerializer``) carry the view's name, so the many
    ``InputSerializer`` classes do not collide; names also drop the module's nesting."""

    def get_serializer_name(
        self, serializer: Any, direction: Literal["request", "response"]
    ) -> str:
        qualname = type(serializer).__qualname__
        if "." in qualname:
            return "".join(part.removesuffix("Serializer") for part in qualname.split("."))
        return str(super().get_serializer_name(serializer, direction))
