"""API error shape: every error is JSON with a ``detail`` and, for input, field-level messages."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

# A lost database (restart, fail-over, exhausted pool) is temporary: say so, and when to retry.
DATABASE_UNAVAILABLE = {
    "detail": "The database is unavailable; try again in a few seconds.",
    "code": "database_unavailable",
}
DATABASE_RETRY_AFTER_S = 5


def database_unavailable_response() -> Response:
    return Response(
        DATABASE_UNAVAILABLE,
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        return database_unavailable_response()
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(detail=exc.message_dict)
        else:
            exc = exceptions.ValidationError(detail={"detail": exc.messages})
    response = exception_handler(exc, context)
    data = response.data if response is not None else None
    detail = data.get("detail") if isinstance(data, dict) else None
    if response is not None and isinstance(detail, exceptions.ErrorDetail):
        # A machine-readable reason beside the sentence: "throttled", "preview_timeout", ...
        response.data["code"] = detail.code
    return response
