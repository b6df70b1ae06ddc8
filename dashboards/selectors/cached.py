"""Dashboard answers cached under the project's change counter of that dashboard
(DashboardCounter).

Every domain event that changes a dashboard figure bumps the counter in its own transaction
(dashboards/services/counter.py), and the counter is read before the answer is computed, so
an answer stored under counter c is at least as new as the state that counter names, and a
request after a change commits reads the new counter and misses. Figures that change with
no event are bounded too: the key holds today's date (the default window ends today), an
answer expires when the first claim in it does, and after CACHE_S at most (a membership, the
template, a model version's status or a split changed without a dashboard event).
The answer is kept as the API's JSON bytes (a large project's agreement answer is half a
megabyte: encoding it again would cost more than the cache saves). A cache outage costs the
computation, never the answer.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from annotation.models import Project
from dashboards.models import DashboardCounter
from dashboards.services.counter import Part

logger = logging.getLogger(__name__)

CACHE_S = 300
PREFIX = "dashboard:2"

Computed = tuple[dict[str, Any], dt.datetime | None]


def dashboard_counter(*, project_id: int, part: Part) -> int:
    """The project's change counter of one dashboard (0 before its first change): one query."""
    found = (
        DashboardCounter.objects.filter(project_id=project_id).values_list(part, flat=True).first()
    )
    return found or 0


def dashboard_cache_key(
    *, part: str, project_id: int, counter: int, filters: Mapping[str, Any]
) -> str:
    values = [f"{name}={filters[name]}" for name in sorted(filters)]
    today = timezone.localdate().isoformat()
    return ":".join([PREFIX, part, str(project_id), str(counter), today, *values])


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while an answer is computed: tens of thousands
    of row tuples would promote into the oldest generation and set off a full collection
    over the whole process (380,000 objects: 0.3 s on a loaded machine, one request in ten).
    The computation makes no reference cycles; its objects go by reference counting, and the
    collector is back on (if it was on) when it ends."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def cached_answer(
    *,
    part: Part,
    project: Project,
    filters: Mapping[str, Any],
    compute: Callable[[], Computed],
) -> bytes:
    """The cached answer (JSON) for (part, project, filters) under the current counter, else
    `compute()`'s (the answer and when it next changes without an event), then stored."""
    counter = dashboard_counter(project_id=project.pk, part=part)  # before computing: see above
    key = dashboard_cache_key(part=part, project_id=project.pk, counter=counter, filters=filters)
    now = timezone.now()
    try:
        hit = cache.get(key)
    except Exception:  # a cache outage: compute, as without a cache
        logger.warning("dashboard cache unavailable", exc_info=True)
        hit = None
    if hit is not None and (hit[1] is None or now < hit[1]):
        cached: bytes = hit[0]
        return cached
    with _collector_paused():
        answer, until = compute()
        body: bytes = JSONRenderer().render(answer)
    timeout = CACHE_S if until is None else min(CACHE_S, (until - now).total_seconds())
    if timeout >= 1:
        try:
            cache.set(key, (body, until), int(timeout))
        except Exception:
            logger.warning("dashboard cache unavailable", exc_info=True)
    return body
