"""Query-count checks: a GET answers with as many queries for 200 rows as for 10.

Each endpoint case builds its own data for a given number of rows and returns the signed-in
client and the URL that reads them; `assert_queries_do_not_grow` measures both sizes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

ROWS = (10, 200)
# A generous bound: a list or detail that needs more than this is doing something per row
# or per request that it should not.
MAX_QUERIES = 20

Build = Callable[[int], tuple[Client, str]]


@dataclass(frozen=True)
class Endpoint:
    """A route (by URL name) and how to build `rows` rows that its GET lists."""

    route: str
    build: Build
    rows: str  # what scales, for the test id and the failure message

    def __str__(self) -> str:
        return f"{self.route}[{self.rows}]"


def _queries_of_get(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return [query["sql"] for query in captured.captured_queries]


def assert_queries_do_not_grow(endpoint: Endpoint) -> None:
    """GET with 10 and with 200 rows: the same number of queries, at most MAX_QUERIES.
    A first GET over 1 row fills the per-process caches (content types, sessions)."""
    _queries_of_get(*endpoint.build(1))
    small, large = (_queries_of_get(*endpoint.build(n)) for n in ROWS)
    shapes = Counter(re.sub(r"\b\d+\b", "?", sql) for sql in large)  # one per statement
    repeated = [f"{n} x {sql[:300]}" for sql, n in shapes.most_common(3)]
    assert len(small) == len(large), (
        f"{endpoint}: {len(small)} queries for {ROWS[0]} {endpoint.rows}, {len(large)} for "
        f"{ROWS[1]}; most repeated: " + "\n".join(repeated)
    )
    assert len(large) <= MAX_QUERIES, f"{endpoint}: {len(large)} queries: " + "\n".join(large)
