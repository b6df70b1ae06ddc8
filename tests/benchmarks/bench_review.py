"""Review benchmarks (issue 9): the review payload of a case with 4 reads of 40 shapes (targets
p95 <= 50 ms, query count constant), composing the gold (take; STAPLE of the 4 reads' cords
on every slice) and signing it (p95 <= 40 ms), on a throwaway PostgreSQL database, through
Django's test client (middleware, session, serialisation included)."""

from __future__ import annotations

import math
import time
from typing import Any

from tests.benchmarks.common import django_setup, emit, summary

ROUNDS = 30
SIZE = 512
AXIAL_SLICES = 9


def _ring(cx: float, cy: float, r: float, n: int = 120) -> list[list[float]]:
    return [
        [cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n)]
        for k in range(n)
    ]


def _shapes(sag: int, axial: list[int], jitter: float) -> dict[str, list[dict[str, Any]]]:
    """40 shapes: cord, canal and 20 corners on the sagittal slice, cord and canal on 9 axial."""

    def polygon(label: str, points: list[list[float]]) -> dict[str, Any]:
        return {"label": label, "shape_type": "polygon", "points": points, "flags": {}}

    corners = [
        {
            "label": f"C{3 + v}_{c}",
            "shape_type": "point",
            "points": [[200 + 40 * (i % 2) + jitter, 100 + 60 * v + 20 * (i // 2)]],
            "flags": {},
        }
        for v in range(5)
        for i, c in enumerate(("AS", "AI", "PS", "PI"))
    ]
    out = {
        str(sag): [
            polygon("cord", _ring(256 + jitter, 256, 30)),
            polygon("canal", _ring(256 + jitter, 256, 45)),
            *corners,
        ]
    }
    for image in axial:
        out[str(image)] = [
            polygon("cord", _ring(256 + jitter, 250, 20 + jitter)),
            polygon("canal", _ring(256, 250, 32 + jitter)),
        ]
    return out


def _seed() -> tuple[Any, Any, list[int]]:
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from annotation.label_templates import cervical_compression_template
    from annotation.models import Case, CaseState, Image, Membership, Project, Read, Series
    from annotation.services.revisions import revision_create

    call_command("migrate", verbosity=0)
    project = Project.objects.create(
        slug="bench-review", name="Bench review", template=cervical_compression_template()
    )
    case = Case.objects.create(
        project=project, pseudonym="R-1", source_key="r-1", state=CaseState.IN_REVIEW
    )
    images: dict[str, list[int]] = {}
    for number, (orientation, count) in enumerate((("sagittal", 1), ("axial", AXIAL_SLICES))):
        series = Series.objects.create(
            case=case,
            uid=f"2.25.9{number}",
            number=number + 1,
            orientation=orientation,
            source="dicom",
            rows=SIZE,
            columns=SIZE,
            pixel_spacing_row=0.5,
            pixel_spacing_col=0.5,
            dtype="uint16",
            window_center=500,
            window_width=1000,
        )
        rows = Image.objects.bulk_create(
            Image(series=series, index=i, position=3.0 * i, uid=f"{series.uid}.{i}",
                  pixel_path="none", sha256="0" * 64, min_value=0, max_value=1)
            for i in range(count)
        )  # fmt: skip
        images[orientation] = [r.pk for r in rows]
    reviewer = User.objects.create(username="bench-reviewer")
    Membership.objects.create(project=project, user=reviewer, role="reviewer")
    reads = []
    for k in range(4):
        author = User.objects.create(username=f"bench-annotator-{k}")
        Membership.objects.create(project=project, user=author, role="annotator")
        read = Read.objects.create(case=case, kind="human", author=author)
        shapes = _shapes(images["sagittal"][0], images["axial"], jitter=float(k))
        revision_create(read=read, parent_id=None, shapes=shapes, author=author)
        reads.append(read.pk)
    return case, reviewer, reads


def _timed(call: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    answer = call(*args)
    return (time.perf_counter() - start) * 1000, answer


def main() -> None:
    django_setup(database="spinelabel_bench_review")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from annotation.models import Case, CaseState

    case, reviewer, reads = _seed()
    client = Client()
    client.force_login(reviewer)
    url = f"/api/cases/{case.pk}/review"
    client.get(url)  # warm the per-process caches (geometry, content types)
    samples, queries = [], set()
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured:
            ms, answer = _timed(client.get, url)
        assert answer.status_code == 200, answer.content[:300]
        samples.append(ms)
        queries.add(len(captured.captured_queries))
    stats = summary(samples)
    emit("review_payload_p95", stats["p95"], "ms", "<= 50", p50=stats["p50"],
         reads=4, shapes_per_read=40, queries=sorted(queries))  # fmt: skip

    def post(path: str, body: dict[str, Any]) -> Any:
        answer = client.post(path, data=body, content_type="application/json")
        assert answer.status_code == 201, answer.content[:300]
        return answer.json()

    compose, sign_url = f"/api/cases/{case.pk}/gold/compose", f"/api/cases/{case.pk}/gold/sign"
    take, fuse, sign = [], [], []
    head = None
    for _ in range(ROUNDS):
        Case.objects.filter(pk=case.pk).update(state=CaseState.IN_REVIEW)
        structures = {"cord": {"from": reads[0]}, "canal": {"from": reads[1]},
                      "corners": {"from": reads[2]}}  # fmt: skip
        ms, answer = _timed(post, compose, {"parent": head, "structures": structures})
        take.append(ms)
        body = {"parent": answer["id"], "structures": {"cord": {"fuse": "staple", "reads": reads}}}
        ms, answer = _timed(post, compose, body)
        fuse.append(ms)
        head = answer["id"]
        ms, _ = _timed(post, sign_url, {"revision": head})
        sign.append(ms)
    for name, values, target in (
        ("gold_compose_take_p95", take, ""),
        ("gold_compose_staple_4_reads_10_slices_p95", fuse, ""),
        ("gold_sign_p95", sign, "<= 40"),
    ):
        stats = summary(values)
        emit(name, stats["p95"], "ms", target, p50=stats["p50"])


if __name__ == "__main__":
    main()
