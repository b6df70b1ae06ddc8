"""The API's JSON parser: DRF's, plus a nesting limit checked before decoding.

Python's decoder recurses once per level: a body nested 5,000 deep raised RecursionError
(a 500), and one nested 900 deep would pass the decoder only to exhaust the stack later.
The depth is counted on the raw bytes (strings blanked out first) with numpy, so a 5 MB
save costs a few milliseconds.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import IO, Any

import numpy as np
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON string, escapes included (the unrolled form runs in linear time).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_OPEN = (ord("["), ord("{"))


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw`` (0 for a scalar)."""
    if raw.count(b"[") + raw.count(b"{") == 0:
        return 0
    brackets = _STRING.sub(b"", raw).translate(None, _BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where(np.isin(codes, _OPEN), 1, -1)
    return int(np.cumsum(steps, dtype=np.int64).max())


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
