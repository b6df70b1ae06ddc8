"""The domain-event table (config/subscribers.py) and publish(): who runs, and when."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

import pytest
from django.db import transaction

from annotation.domain_events import (
    AFTER_COMMIT,
    DOMAIN_EVENTS,
    IN_TRANSACTION,
    CasesImported,
    RevisionSaved,
    on,
    publish,
    subscribers_by_event,
)
from annotation.models import Case, Read, ReadKind, Revision
from annotation.services.revisions import revision_create
from config.subscribers import SUBSCRIBERS
from inference.models import PrelabelJob
from measurements.models import MeasurementResult
from tests.inference.tiny import register_tiny_model

CORD = {"label": "cord", "shape_type": "polygon", "points": [[10, 10], [30, 10], [30, 30]]}


def _first_image_key(case: Case) -> str:
    return str(case.series.get(orientation="sagittal").images.earliest("index").pk)


def test_every_row_handles_a_domain_event_and_takes_that_event() -> None:
    assert SUBSCRIBERS
    for row in SUBSCRIBERS:
        assert row.event in DOMAIN_EVENTS, row
        assert row.when in {IN_TRANSACTION, AFTER_COMMIT}, row
        assert row.does, row
        first = next(iter(inspect.signature(row.handler).parameters))
        assert get_type_hints(row.handler)[first] is row.event, row


def test_a_save_stores_measurements_in_its_transaction_and_announces_after_commit() -> None:
    rows = [(row.when, row.does) for row in subscribers_by_event()[RevisionSaved]]
    assert (IN_TRANSACTION, "store its measurements") in rows
    announcements = [does for when, does in rows if when is AFTER_COMMIT]
    # Viewers hear of the revision before its measurements.
    assert announcements.index("live: revision.saved") < announcements.index(
        "live: measurement.updated"
    )


class Rollback(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside transaction.atomic() to roll the publisher's transaction back."""


def _in_rolled_back_transaction(work: Callable[[], object]) -> object:
    """Run `work` in a transaction that then rolls back; return what it returned."""
    seen: list[object] = []
    with contextlib.suppress(Rollback), transaction.atomic():
        seen.append(work())
        raise Rollback
    return seen[0]


@pytest.mark.django_db(transaction=True)
def test_a_save_stores_its_measurements_in_its_own_transaction(case: Case) -> None:
    read = Read.objects.create(case=case, kind=ReadKind.IMPORTED, name="import")

    def save() -> int:
        revision_create(read=read, parent_id=None, shapes={_first_image_key(case): [CORD]})
        return MeasurementResult.objects.count()

    assert _in_rolled_back_transaction(save) == 1  # stored inside the save's transaction
    assert MeasurementResult.objects.count() == 0  # and rolled back with it


@pytest.mark.django_db(transaction=True)
def test_an_event_with_in_transaction_subscribers_needs_a_transaction(case: Case) -> None:
    read = Read.objects.create(case=case, kind=ReadKind.IMPORTED, name="import")
    with transaction.atomic():
        revision = revision_create(read=read, parent_id=None, shapes={})
    with pytest.raises(RuntimeError, match=r"RevisionSaved .* inside transaction.atomic"):
        publish(RevisionSaved(revision=revision))


@pytest.mark.django_db(transaction=True)
def test_after_commit_subscribers_run_only_when_the_publisher_commits(
    settings: Any, case: Case, tmp_path: Any
) -> None:
    settings.PRELABEL_ON_IMPORT = True
    register_tiny_model(tmp_path)
    event = CasesImported(project_id=case.project_id, case_ids=(case.pk,))

    def publish_then_count() -> int:
        publish(event)
        return PrelabelJob.objects.count()

    assert _in_rolled_back_transaction(publish_then_count) == 0  # not before commit
    assert not PrelabelJob.objects.exists()  # nor after the rollback
    with transaction.atomic():
        assert publish_then_count() == 0
    assert list(PrelabelJob.objects.values_list("case_id", flat=True)) == [case.pk]


class HookFailedError(Exception):
    """What the failing after-commit subscriber of the table below raises."""


def _failing_announcement(event: RevisionSaved) -> None:
    raise HookFailedError(f"announcing revision {event.revision.pk} failed")


FAILING_TABLE = (on(RevisionSaved, AFTER_COMMIT, _failing_announcement, does="announce (fails)"),)


@pytest.fixture
def failing_table(settings: Any) -> Any:
    settings.DOMAIN_EVENT_SUBSCRIBERS = f"{__name__}.FAILING_TABLE"
    subscribers_by_event.cache_clear()
    yield
    subscribers_by_event.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_a_failing_after_commit_subscriber_is_logged_and_the_commit_stands(
    failing_table: Any, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    read = Read.objects.create(case=case, kind=ReadKind.IMPORTED, name="import")
    with transaction.atomic():
        # revision_create publishes RevisionSaved: its hook fails once this commits.
        revision = revision_create(read=read, parent_id=None, shapes={})
    assert Revision.objects.filter(pk=revision.pk).exists()
    failures = [r for r in caplog.records if r.exc_info and r.exc_info[0] is HookFailedError]
    assert len(failures) == 1
    assert "_failing_announcement (announce (fails))" in failures[0].getMessage()
