#!/usr/bin/env python3
"""Pull a project's gold-standard measurements with a personal API token.

Usage:
    SPINELABEL_TOKEN=sl_... python gold_measurements.py https://spinelabel.example.org my-project

Prints CSV on stdout: one row per measured value of each signed gold read's latest revision
(case pseudonym, revision, image, view, measure, value, algorithm version). Only the
standard library is used; create the token on your profile page (/accounts/profile/). The
token acts as you: you need a role that sees the gold standard (reviewer or lead, or any
member of a project without blinding).
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any


class Api:
    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(self, path_or_url: str) -> tuple[Any, dict[str, str]]:
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        request = urllib.request.Request(url, headers=self.headers)  # noqa: S310 (http/https only)
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.load(response), dict(response.headers)

    def pages(self, path: str) -> Iterator[Any]:
        """Every row of a list endpoint (limit/offset), following the Link header."""
        url: str | None = path
        while url:
            rows, headers = self.get(url)
            yield from rows
            match = re.search(r'<([^>]+)>;\s*rel="next"', headers.get("Link", ""))
            url = match.group(1) if match else None

    def gold_cases(self, project: str) -> Iterator[dict[str, Any]]:
        """The project's cases in state gold (the case list answers a page object)."""
        page = 1
        while True:
            query = urllib.parse.urlencode({"state": "gold", "page": page, "page_size": 500})
            reply, _ = self.get(f"/api/projects/{urllib.parse.quote(project)}/cases?{query}")
            yield from reply["results"]
            if page * reply["page_size"] >= reply["count"]:
                return
            page += 1


def gold_rows(api: Api, project: str) -> Iterator[list[Any]]:
    for case in api.gold_cases(project):
        for read in api.pages(f"/api/cases/{case['id']}/reads?kind=gold"):
            if read["head"] is None:
                continue
            revision = read["head"]["id"]
            measured, _ = api.get(f"/api/revisions/{revision}/measurements")
            for result in measured["results"]:
                for name, value in sorted(result["values"].items()):
                    if isinstance(value, int | float):
                        yield [
                            case["pseudonym"],
                            revision,
                            result["image"],
                            result["view"],
                            name,
                            value,
                            result["algorithm_version"],
                        ]


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    token = os.environ.get("SPINELABEL_TOKEN", "")
    if not token:
        print("Set SPINELABEL_TOKEN to a token from your profile page.", file=sys.stderr)
        return 2
    api = Api(argv[1], token)
    out = csv.writer(sys.stdout)
    out.writerow(["case", "revision", "image", "view", "measure", "value", "algorithm_version"])
    try:
        for row in gold_rows(api, argv[2]):
            out.writerow(row)
    except urllib.error.HTTPError as exc:
        print(f"{exc.code} {exc.reason}: {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
