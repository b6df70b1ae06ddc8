"""Work-queue benchmark (issue 9): "Next case" with 10,000 cases and 50 annotators, called in
the service on a throwaway PostgreSQL database: wall time per call (claim, state move, log)
and the query count per call, which must not depend on how many cases there are."""

from __future__ import annotations

import time

from tests.benchmarks.common import django_setup, emit, summary

CASES = 10_000
USERS = 50
ROUNDS = 4  # each user claims, submits (the claim ends as submitted) and asks again


def _seed() -> tuple[object, list[object]]:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    from annotation.models import Case, Membership, Project

    call_command("migrate", verbosity=0)
    project = Project.objects.create(slug="bench-queue", name="Bench queue")
    Case.objects.bulk_create(
        (
            Case(
                project=project,
                pseudonym=f"B-{i:05d}",
                source_key=f"b-{i}",
                split=("train", "tune", "test")[i % 10 // 8 + (i % 10 == 9)],
                overlap=i % 10 == 0,
            )
            for i in range(CASES)
        ),
        batch_size=2000,
    )
    users = User.objects.bulk_create(User(username=f"bq-{i}", password="!") for i in range(USERS))
    Membership.objects.bulk_create(
        Membership(project=project, user=u, role="annotator") for u in users
    )
    with connection.cursor() as cursor:
        # As autovacuum would have: the planner needs the tables' statistics.
        cursor.execute("ANALYZE annotation_case; ANALYZE annotation_claim; ANALYZE annotation_read")
    return project, list(users)


def main() -> None:
    django_setup(database="spinelabel_bench_queue")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from annotation.models import Claim, ReleaseReason
    from annotation.services.queue import queue_next

    project, users = _seed()
    samples: list[float] = []
    queries: set[int] = set()
    for _round in range(ROUNDS):
        for user in users:
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                claim = queue_next(project=project, user=user, role="annotator")  # type: ignore[arg-type]
                samples.append((time.perf_counter() - start) * 1000)
            queries.add(len(captured.captured_queries))
            assert claim is not None
            Claim.objects.filter(pk=claim.pk).update(
                released_at=timezone.now(), release_reason=ReleaseReason.SUBMITTED
            )
    stats = summary(samples)
    emit(
        "queue_next_p95",
        stats["p95"],
        "ms",
        "<= 15 ms",
        p50=round(stats["p50"], 3),
        cases=CASES,
        users=USERS,
        calls=len(samples),
        queries_per_call=sorted(queries),
    )


if __name__ == "__main__":
    main()
