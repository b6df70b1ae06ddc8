"""Study-report benchmark (issue 12): 1,000 gold cases (each with an annotator, an
independent reader and a model read, 6 images, stored measurements and the dashboards'
agreement pairs, bulk-created), then end to end: the lead's POST, the real task worker
(`db_worker --batch`) generating the HTML and CSV, and the GET of the HTML. Target <= 10 s.
Also the phases of one run (data, tables and charts, files), the CPU seconds (what the run
takes on an idle core: on a loaded machine the wall time is longer) and the load average."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import django_setup, emit

CASES = 1000
SHAPE = (256, 256)


def _phases(project: Any) -> None:
    """The phases of the generation, once more, outside the worker."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from reports.build import report_build
    from reports.render import report_html
    from reports.render_csv import report_csv
    from reports.selectors import report_data

    start = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        data = report_data(project=project)
    loaded = time.perf_counter()
    report = report_build(data, split="test", now=timezone.now(), progress=lambda f, s: None)
    built = time.perf_counter()
    report_html(report), report_csv(report)
    rendered = time.perf_counter()
    queries = len(captured.captured_queries)
    emit("report_phase_data", loaded - start, "s", pairs=len(data.pairs), queries=queries)
    emit("report_phase_tables_and_charts", built - loaded, "s")
    emit("report_phase_html_and_csv", rendered - built, "s")


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-report-"))
    django_setup(database="spinelabel_bench_report", data_dir=data_dir)
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from annotation.label_templates import cervical_compression_template
    from annotation.models import Membership, Project
    from reports.models import ReportJob
    from tests.reports.builders import study_create

    call_command("migrate", verbosity=0)
    project = Project.objects.create(
        slug="bench-report", name="Bench report", template=cervical_compression_template()
    )
    people = {}
    for role in ("annotator", "reader", "reviewer", "lead"):
        people[role] = User.objects.create(username=f"bench-{role}")
        Membership.objects.create(project=project, user=people[role], role=role)
    start = time.perf_counter()
    study_create(
        project=project,
        annotator=people["annotator"],
        reader=people["reader"],
        reviewer=people["reviewer"],
        cases=CASES,
        shape=SHAPE,
    )
    setup_s = time.perf_counter() - start

    client = Client()
    client.force_login(people["lead"])
    # A running server has its URLs and views imported: warm this process the same way.
    assert client.get(f"/api/projects/{project.slug}/reports").status_code == 200
    start = time.perf_counter()
    cpu_start = time.process_time()
    answer = client.post(
        f"/api/projects/{project.slug}/reports", {"split": "test"}, content_type="application/json"
    )
    assert answer.status_code == 202, answer.content[:300]
    posted = time.perf_counter()
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0)
    worked = time.perf_counter()
    html = client.get(f"/api/reports/{answer.json()['id']}/report.html")
    body = html.getvalue()
    total_s = time.perf_counter() - start
    cpu_s = time.process_time() - cpu_start
    job = ReportJob.objects.get(pk=answer.json()["id"])
    assert job.status == "succeeded", job.reason
    emit(
        "report_1000_gold_cases_end_to_end",
        total_s,
        "s",
        "<= 10",
        gold_cases=CASES,
        html_bytes=len(body),
        charts=body.count(b"<svg"),
        post_s=round(posted - start, 3),
        worker_s=round(worked - posted, 3),
        get_s=round(time.perf_counter() - worked, 3),
        # CPU seconds of this process (POST, worker, GET): the wall time on an idle core.
        cpu_s=round(cpu_s, 3),
        setup_s=round(setup_s, 1),
        cpus=os.cpu_count(),
        load_average=round(os.getloadavg()[0], 1),
    )

    _phases(project)


if __name__ == "__main__":
    main()
