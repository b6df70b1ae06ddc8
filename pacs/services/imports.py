"""Importing studies from the project's PACS (WADO-RS) through the file import's ingest.

Each instance is read by annotation.ingest (DicomStream: the file import's reader and
de-identification) as it streams in, and a series is stored only when all of it arrived,
so a transfer cut midway leaves nothing of that series behind (its pixel files are
deleted); the series that arrived before are imported, one transaction per study.
Ingest adds to a study only the series it lacks, and series already imported are not
fetched again, so a retry fetches what is missing and duplicates nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from queue import Empty, Queue
from typing import Any

from dicomweb_client.api import DICOMwebClient
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.domain_events import CasesImported, publish
from annotation.ingest import ImportSummary
from annotation.ingest.deid import replacement_uid
from annotation.ingest.stream import DicomStream
from annotation.ingest.types import CaseAdditions
from annotation.models import Project, Series
from pacs.announcements import import_announce
from pacs.client import PacsError, client_for, pacs_faults
from pacs.models import ImportStatus, PacsConnection, PacsImport
from pacs.selectors import connection_require

logger = logging.getLogger(__name__)

QUEUE_UNREACHABLE = "the task queue could not be reached; retry the import"
INTERNAL_ERROR = "an internal error stopped the import (the server log has the details)"
ANNOUNCE_EVERY_S = 0.5
# Instances received ahead of the one being read (bounds the memory the transfer may take).
PREFETCH_PARTS = 8


@dataclass
class _Series:
    uid: str
    instances: int


def pacs_import_create(*, project: Project, user: User, studies: list[str]) -> PacsImport:
    with transaction.atomic():
        job = PacsImport.objects.create(project=project, requested_by=user, studies=studies)
        import_announce(job)
        _enqueue(job)
    return job


def pacs_import_retry(*, job: PacsImport) -> PacsImport:
    """Queue a finished job again: it fetches what is still missing."""
    with transaction.atomic():
        job = PacsImport.objects.select_for_update().get(pk=job.pk)
        if job.status not in {ImportStatus.FAILED, ImportStatus.PARTIAL} and not _stale(job):
            raise PacsError(
                f"only a failed or partly imported job is retried (this one is {job.status})"
            )
        job.status = ImportStatus.QUEUED
        job.errors = []
        job.finished_at = None
        job.save(update_fields=["status", "errors", "finished_at"])
        import_announce(job)
        _enqueue(job)
    return job


def _stale(job: PacsImport) -> bool:
    """A running job whose worker stopped (no heartbeat for TASK_STALE_AFTER_S): the task
    backend never re-runs it, so the lead may."""
    if job.status != ImportStatus.RUNNING or job.heartbeat_at is None:
        return False
    cutoff = timezone.now() - timedelta(seconds=settings.TASK_STALE_AFTER_S)
    return job.heartbeat_at < cutoff


def _enqueue(job: PacsImport) -> None:
    from pacs.tasks import pacs_import_task

    def enqueue() -> None:
        try:
            result = pacs_import_task.enqueue(job.pk)
        except Exception:  # any broker or backend failure leaves the job unqueued
            logger.exception("PACS import %s could not be queued", job.pk)
            _finish(job, errors=[QUEUE_UNREACHABLE], summary=ImportSummary())
            return
        PacsImport.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)


class _Progress:
    """Counts fetched instances; stores and announces at most every ANNOUNCE_EVERY_S."""

    def __init__(self, job: PacsImport) -> None:
        self.job = job
        self._last = 0.0

    def step(self, count: int = 1, *, force: bool = False) -> None:
        self.job.instances_done += count
        now = time.monotonic()
        if force or now - self._last >= ANNOUNCE_EVERY_S:
            self._last = now
            self.job.heartbeat_at = timezone.now()
            self.job.save(update_fields=["instances_done", "instances_total", "heartbeat_at"])
            import_announce(self.job)


def pacs_import_run(*, import_id: int) -> PacsImport:
    """Run a queued job (the task's body); faults end it with a message naming the cause."""
    with transaction.atomic():
        job = PacsImport.objects.select_for_update().select_related("project").get(pk=import_id)
        if job.status != ImportStatus.QUEUED:
            return job
        job.status = ImportStatus.RUNNING
        job.attempts += 1
        job.started_at = job.heartbeat_at = timezone.now()
        job.instances_done = job.instances_total = 0
        job.save()
        import_announce(job)
    summary = ImportSummary()
    errors: list[str] = []
    try:
        _run(job, summary, errors)
    except PacsError as exc:
        errors.append(exc.message)
    except Exception:
        logger.exception("PACS import %s stopped", job.pk)
        errors.append(INTERNAL_ERROR)
    job = _finish(job, errors=errors, summary=summary)
    created = tuple(c.id for c in summary.cases if c.created)
    if created:
        publish(
            CasesImported(
                project_id=job.project_id, case_ids=created, requested_by=job.requested_by
            )
        )
    return job


def _run(job: PacsImport, summary: ImportSummary, errors: list[str]) -> None:
    project = job.project
    connection = connection_require(project=project)
    client = client_for(connection)
    plans: list[list[_Series]] = []
    count = len(job.studies)
    for index, study_uid in enumerate(job.studies, start=1):
        try:
            with _labelled(f"study {index} of {count}"), pacs_faults(connection):
                plans.append(_series_of(client, study_uid))
        except PacsError as exc:
            if exc.fatal:
                raise
            errors.append(exc.message)
            plans.append([])
    job.instances_total = sum(s.instances for plan in plans for s in plan)
    progress = _Progress(job)
    progress.step(0, force=True)
    for index, (study_uid, plan) in enumerate(zip(job.studies, plans, strict=True), start=1):
        label = f"study {index} of {count}"
        if not plan:
            continue
        try:
            with _labelled(label):
                _import_study(job, connection, client, study_uid, plan, label, progress, summary)
        except PacsError as exc:
            if exc.fatal:
                raise
            errors.append(exc.message)
    progress.step(0, force=True)


class _labelled:  # noqa: N801 - used as a context manager, reads like one
    """Prefix a PacsError's message with the study it concerns."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, PacsError) and not exc.message.startswith("study "):
            exc.message = f"{self.label}: {exc.message}"


def _series_of(client: DICOMwebClient, study_uid: str) -> list[_Series]:
    found = client.search_for_series(
        study_instance_uid=study_uid, fields=["NumberOfSeriesRelatedInstances"]
    )
    numbered: list[tuple[int, _Series]] = []
    for item in found:
        uid = (item.get("0020000E", {}).get("Value") or [""])[0]
        instances = (item.get("00201209", {}).get("Value") or [0])[0]
        number = (item.get("00200011", {}).get("Value") or [0])[0]
        if uid:
            numbered.append((int(number or 0), _Series(uid=str(uid), instances=int(instances))))
    # In series-number order, so a retry after a fault resumes in the same order.
    plan = [series for _number, series in sorted(numbered, key=lambda p: (p[0], p[1].uid))]
    if not plan:
        raise PacsError("the PACS has no series in this study", fatal=False)
    return plan


def _already_imported(project: Project, series_uid: str) -> bool:
    uid = replacement_uid(salt=project.pseudonym_salt, original=series_uid)
    return Series.objects.filter(case__project=project, uid=uid).exists()


def _import_study(
    job: PacsImport,
    connection: PacsConnection,
    client: DICOMwebClient,
    study_uid: str,
    plan: list[_Series],
    label: str,
    progress: _Progress,
    summary: ImportSummary,
) -> None:
    project = job.project
    fault: PacsError | None = None
    with DicomStream(project=project) as stream:
        for number, series in enumerate(plan, start=1):
            if _already_imported(project, series.uid):
                progress.step(series.instances)
                continue
            try:
                _fetch_series(
                    connection, client, study_uid, series, stream, label, number, progress
                )
            except PacsError as exc:
                fault = exc
                stream.drop()
                break
            stream.keep()
        result = stream.store()
    _merge(result, label, summary, plan)
    if fault is not None:
        raise fault


def _fetch_series(
    connection: PacsConnection,
    client: DICOMwebClient,
    study_uid: str,
    series: _Series,
    stream: DicomStream,
    label: str,
    number: int,
    progress: _Progress,
) -> None:
    """Read every instance of the series into the stream's open batch as it arrives, or
    raise a PacsError (the caller drops the batch: nothing of the series is stored)."""
    received = 0
    with pacs_faults(connection):
        for part in _prefetched(_series_parts(client, study_uid, series.uid)):
            received += 1
            stream.add(part, file=f"{label}/series-{number}/{received:05d}.dcm")
            progress.step()
    if series.instances and received < series.instances:
        raise PacsError(
            f"the PACS sent {received} of the {series.instances} instances of series {number}"
        )


def _series_parts(client: DICOMwebClient, study_uid: str, series_uid: str) -> Iterator[bytes]:
    """The series' instances as the PACS stored them, each as its file's bytes.

    dicomweb-client's public retrieve parses every instance into a pydicom Dataset, which
    ingest would only parse again; its own multipart reader (pinned version, pyproject)
    hands over the bytes as they stream in."""
    url = f"{client.base_url}/studies/{study_uid}/series/{series_uid}"
    accept = 'multipart/related; type="application/dicom"; transfer-syntax=*'
    response = client._http_get(url, headers={"Accept": accept}, stream=True)
    media_type = response.headers.get("Content-Type", "")
    if media_type.startswith("application/dicom"):  # a single part sent bare
        yield response.content
        return
    yield from client._decode_multipart_message(response, stream=True)


def _prefetched(parts: Iterator[bytes]) -> Iterator[bytes]:
    """The parts, received on a thread of their own: the transfer goes on (the socket read
    releases the GIL) while this thread reads and stores the part before. A fault of the
    transfer is raised here, where the caller turns it into a PacsError."""
    queue: Queue[tuple[bytes | None, BaseException | None]] = Queue(maxsize=PREFETCH_PARTS)
    stop = threading.Event()

    def pump() -> None:
        try:
            for part in parts:
                queue.put((part, None))
                if stop.is_set():
                    return
            queue.put((None, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            queue.put((None, exc))

    thread = threading.Thread(target=pump, name="pacs-fetch", daemon=True)
    thread.start()
    try:
        while True:
            part, fault = queue.get()
            if fault is not None:
                raise fault
            if part is None:
                return
            yield part
    finally:
        stop.set()
        while thread.is_alive():  # unblock a pump waiting to put, until it sees stop
            with suppress(Empty):
                queue.get(timeout=0.1)
        thread.join()


def _merge(result: ImportSummary, label: str, summary: ImportSummary, plan: list[_Series]) -> None:
    summary.skipped.extend(result.skipped)
    summary.cases.extend(result.cases)
    for case_id, added in result.additions.items():
        before = summary.additions.get(case_id, CaseAdditions())
        summary.additions[case_id] = before.plus(added.series, added.images, added.reads)
    summary.series += result.series
    summary.images += result.images
    summary.notes.extend(result.notes)
    if not result.cases and result.skipped:
        reasons = Counter(s.reason for s in result.skipped)
        reason, _count = reasons.most_common(1)[0]
        total = sum(s.instances for s in plan) or len(result.skipped)
        raise PacsError(
            f"{label}: nothing imported: {reason} "
            f"({len(result.skipped)} of {total} instances refused)",
            fatal=False,
        )


def _finish(job: PacsImport, *, errors: list[str], summary: ImportSummary) -> PacsImport:
    done, total = job.instances_done, job.instances_total
    with transaction.atomic():
        job = PacsImport.objects.select_for_update().get(pk=job.pk)
        job.instances_done, job.instances_total = done, total
        previous = job.summary or {}
        merged = summary.as_dict()
        seen = {c["id"] for c in merged["cases"]}
        merged["cases"] = [c for c in previous.get("cases", []) if c["id"] not in seen] + merged[
            "cases"
        ]
        job.summary = merged
        job.errors = errors
        if not errors:
            job.status = ImportStatus.SUCCEEDED
        elif merged["cases"]:
            job.status = ImportStatus.PARTIAL
        else:
            job.status = ImportStatus.FAILED
        job.finished_at = timezone.now()
        job.save()
        import_announce(job)
    return job
