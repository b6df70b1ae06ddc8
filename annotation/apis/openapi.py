"""drf-spectacular extensions: how the schema names the Bearer token and this project's
own field types (loaded with the schema views, before any schema is generated)."""

from __future__ import annotations

from typing import Any

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
