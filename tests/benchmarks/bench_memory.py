"""Server memory (issue 2): resident memory of the ASGI process after the demo is loaded
and browsed, in the embedded default (SQLite under a fresh DATA_DIR), as `make demo` runs it.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.common import ROOT, emit, rss_mb, start_server


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATA_DIR"] = str(data_dir)
    python = sys.executable
    for command in (["migrate", "-v", "0"], ["load_demo", "--no-prelabel"]):
        subprocess.run(
            [python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    server, url = start_server(env)
    try:
        sys.path.insert(0, str(ROOT))
        os.environ["DATA_DIR"] = str(data_dir)
        os.environ.pop("DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.test import Client

        client = Client()
        client.force_login(get_user_model().objects.get(username="annotator"))
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)

        def get(path: str) -> bytes:
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, (path, response.status)
            return body

        before = rss_mb(server.pid)
        pixels = 0
        for _ in range(2):  # browse everything twice, as a day of scrolling would
            get("/projects/cervical-demo/")
            cases = json.loads(get("/api/projects/cervical-demo/cases?page=1&page_size=100"))
            for row in cases["results"]:
                get(f"/cases/{row['id']}/")
                detail = json.loads(get(f"/api/cases/{row['id']}"))
                get(f"/api/cases/{row['id']}/reads")
                for series in detail["series"]:
                    get(f"/api/series/{series['id']}/thumbnail")
                    for image in series["images"]:
                        pixels += len(get(f"/api/images/{image['id']}/pixels"))
        after = rss_mb(server.pid)
        emit(
            "server_rss_after_demo_browsed",
            after,
            "MB",
            "<= 400",
            at_start_mb=round(before, 1),
            pixel_bytes_served=pixels,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
