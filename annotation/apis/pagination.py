"""One pagination style for every list endpoint: ``?limit=&offset=``.

The reply stays a JSON array (what the pages have always read); ``X-Total-Count`` gives the
number of rows the filters match and ``Link`` the next and previous pages (RFC 8288). A
list's filters subclass ``PageParams``, so a bad limit, offset or filter is one field-level
400. ``paginated(...)`` documents the parameters and headers in the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

# Above any list the pages show today: the default never cuts what the UI displays.
DEFAULT_LIMIT = 1000
MAX_LIMIT = 1000

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class PageParams(serializers.Serializer[Any]):
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, help_text="rows per page"
    )
    offset = serializers.IntegerField(
        min_value=0, max_value=10**9, default=0, help_text="rows to skip"
    )


def page_params(request: Request, params: type[PageParams] = PageParams) -> dict[str, Any]:
    """The validated query parameters (400 naming the field otherwise)."""
    filters = params(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return dict(filters.validated_data)


def page_slice(
    rows: QuerySet[Any] | Sequence[T], *, limit: int, offset: int
) -> tuple[list[Any], int]:
    """The page's rows and the total (one COUNT for a queryset)."""
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    return list(rows[offset : offset + limit]), total


def _link(request: Request, *, limit: int, offset: int, rel: str) -> str:
    query = request.query_params.copy()
    query["limit"] = str(limit)
    query["offset"] = str(offset)
    url = request.build_absolute_uri(request.path) + "?" + query.urlencode()
    return f'<{url}>; rel="{rel}"'


def page_response(request: Request, data: Any, *, total: int, limit: int, offset: int) -> Response:
    links = []
    if offset + limit < total:
        links.append(_link(request, limit=limit, offset=offset + limit, rel="next"))
    if offset > 0:
        links.append(_link(request, limit=limit, offset=max(0, offset - limit), rel="prev"))
    headers = {"X-Total-Count": str(total)}
    if links:
        headers["Link"] = ", ".join(links)
    return Response(data, headers=headers)


PAGE_HEADERS = [
    OpenApiParameter(
        "X-Total-Count",
        int,
        OpenApiParameter.HEADER,
        response=[200],
        description="rows matching the filters, all pages",
    ),
    OpenApiParameter(
        "Link",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description='next and previous pages: <url>; rel="next", <url>; rel="prev"',
    ),
]


def paginated(
    item: type[serializers.BaseSerializer[Any]] | serializers.BaseSerializer[Any],
    *,
    params: type[PageParams] = PageParams,
    summary: str = "",
) -> Callable[[F], F]:
    """The schema of a paginated GET: its filters, an array of ``item``, the page headers."""
    many = item if isinstance(item, serializers.BaseSerializer) else item(many=True)
    decorator: Callable[[F], F] = extend_schema(
        parameters=[params, *PAGE_HEADERS], responses={200: many}, summary=summary or None
    )
    return decorator


def list_response(
    request: Request,
    rows: QuerySet[Any] | Sequence[Any],
    *,
    params: dict[str, Any],
    serialize: Callable[[list[Any]], Any],
) -> Response:
    """One page of ``rows`` (filtered already), serialized, with the page headers."""
    limit, offset = params["limit"], params["offset"]
    page, total = page_slice(rows, limit=limit, offset=offset)
    return page_response(request, serialize(page), total=total, limit=limit, offset=offset)


class DateRangeParams(PageParams):
    """Rows created in a time range (ISO 8601; either end may be left open)."""

    created_after = serializers.DateTimeField(required=False, help_text="created at or after")
    created_before = serializers.DateTimeField(required=False, help_text="created before")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after is not None and before is not None and after >= before:
            raise serializers.ValidationError(
                {"created_before": ["must be later than created_after"]}
            )
        return attrs


def in_date_range(created_at: Any, params: dict[str, Any]) -> bool:
    after, before = params.get("created_after"), params.get("created_before")
    return (after is None or created_at >= after) and (before is None or created_at < before)
