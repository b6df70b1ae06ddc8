"""The API's JSON parser: DRF's, plus a nesting limit checked before decoding.

Python's decoder recurses once per level: a body nested 5,000 deep raised RecursionError
(a 500), and one nested 900 deep would pass the decoder only to exhaust the stack later.
The depth is counted on the raw bytes first (annotation/jsonlimits.py).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from annotation.jsonlimits import json_depth


class LimitedJSONParser(JSONParser):
    """Refuse a body nested deeper than ``API_JSON_MAX_DEPTH`` with a 400 naming the limit."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read()
        limit: int = settings.API_JSON_MAX_DEPTH
        if json_depth(raw) > limit:
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # a defence in depth: the count above should catch it
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels") from exc
