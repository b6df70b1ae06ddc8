"""The OpenAPI schema (drf-spectacular) covers every JSON API route without a warning or an
error (each view names its request and reply serializers), and is valid OpenAPI 3."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS, reset_generator_stats
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.views import APIView


def _generate() -> tuple[dict[str, Any], dict[str, int], dict[str, int]]:
    reset_generator_stats()
    generator = SchemaGenerator()  # type: ignore[no-untyped-call]
    schema = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return schema, dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache)


def _api_routes(patterns: list[Any], prefix: str = "") -> set[str]:
    """The /api/ routes served by DRF views, as OpenAPI paths (`/api/cases/{case_id}`)."""
    found: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found |= _api_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None)
            route = "/" + prefix + str(entry.pattern)
            if view is not None and issubclass(view, APIView) and route.startswith("/api/"):
                found.add(route.replace("<int:", "{").replace("<slug:", "{").replace(">", "}"))
    return found


def test_the_schema_generates_without_warnings_or_errors() -> None:
    schema, warnings, errors = _generate()
    assert not errors, "schema errors:\n" + "\n".join(errors)
    assert not warnings, "schema warnings:\n" + "\n".join(warnings)
    validate_schema(schema)  # type: ignore[no-untyped-call]


def test_every_api_route_is_in_the_schema_with_the_token_scheme() -> None:
    schema, _, _ = _generate()
    expected = _api_routes(get_resolver().url_patterns) - {"/api/schema/", "/api/docs/"}
    assert expected - set(schema["paths"]) == set()
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    listed = schema["paths"]["/api/cases/{case_id}/comments"]["get"]
    names = {p["name"] for p in listed["parameters"]}
    assert {"limit", "offset", "resolved", "created_after"} <= names
    assert "X-Total-Count" in listed["responses"]["200"]["headers"]


@pytest.mark.django_db
def test_the_schema_and_its_docs_are_served_to_anyone() -> None:
    client = Client()
    reply = client.get("/api/schema/?format=json")
    assert reply.status_code == 200
    assert reply.json()["openapi"].startswith("3.")
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Everything the page loads comes from this site (no CDN): sidecar assets and its script.
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "http://" not in html
    assert "https://" not in html
    assert "<script>" not in html  # no inline code: the CSP allows scripts from 'self' only
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
    assert "script-src 'self'" in docs["Content-Security-Policy"]
