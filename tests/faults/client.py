"""A signed-in API client as a browser is one (session cookie, CSRF header), and the
checks that every revision a client was told about is stored whole."""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import psycopg


def shapes_hash(shapes: Any) -> str:
    """A digest of shapes independent of key order and whitespace."""
    canonical = json.dumps(shapes, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ApiClient:
    base: str
    session: str
    csrf: str = field(default_factory=lambda: secrets.token_hex(16))

    def request(self, method: str, path: str, body: Any = None, *, timeout: float = 30) -> Reply:
        """One request; a refused or dropped connection is status 0 (no answer at all)."""
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
                "X-CSRFToken": self.csrf,
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(
                    response.status, response.headers.get("Content-Type", ""), response.read()
                )
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers.get("Content-Type", ""), error.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return Reply(0, "", b"")

    def my_read(self, case_id: int) -> int:
        reply = self.request("POST", f"/api/cases/{case_id}/reads")
        assert reply.status in {200, 201}, reply
        return int(reply.json()["id"])


def polygon(step: int) -> dict[str, Any]:
    """A distinct small polygon per step, so every save is a real change."""
    return {
        "label": "cord",
        "shape_type": "polygon",
        "points": [[10.0, 10.0], [40.0, 10.0 + step % 50], [25.0, 60.0]],
        "flags": {},
    }


def stored_revisions(database_url: str) -> dict[int, dict[str, Any]]:
    """Every revision row: read, number, parent and the hash of its shapes."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select id, read_id, number, parent_id, shapes from annotation_revision"
        ).fetchall()
    return {
        row[0]: {"read": row[1], "number": row[2], "parent": row[3], "hash": shapes_hash(row[4])}
        for row in rows
    }


def read_heads(database_url: str) -> dict[int, tuple[int | None, int]]:
    """Each read's head revision and revision count, as stored."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("select id, head_id, revision_count from annotation_read").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def history_problems(database_url: str) -> list[str]:
    """Reads whose history is not whole: numbers 1..n chained by parent, head = n, count = n."""
    revisions = stored_revisions(database_url)
    problems = []
    by_read: dict[int, list[tuple[int, int, int | None]]] = {}
    for revision_id, row in revisions.items():
        by_read.setdefault(row["read"], []).append((row["number"], revision_id, row["parent"]))
    for read_id, (head, count) in read_heads(database_url).items():
        chain = sorted(by_read.get(read_id, []))
        if [number for number, _, _ in chain] != list(range(1, len(chain) + 1)):
            problems.append(f"read {read_id}: numbers {[n for n, _, _ in chain]}")
        for (_, previous, _), (number, _, parent) in itertools.pairwise(chain):
            if parent != previous:
                problems.append(f"read {read_id}: revision {number} has parent {parent}")
        if count != len(chain) or head != (chain[-1][1] if chain else None):
            problems.append(f"read {read_id}: head {head} count {count}, {len(chain)} rows")
    return problems
