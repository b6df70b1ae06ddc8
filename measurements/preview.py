"""The live measurement preview runs in a child process with a time budget.

Measuring is pure Python and numpy: in the server process a large preview held the GIL
and a pixel request waited seconds behind it. Each preview is forked from a forkserver
that has already imported the geometry code (a fork costs milliseconds), the server
thread only waits on a pipe, and a child past its budget is killed. At most ``slots``
previews run at once per server process. This module must not import Django: the
forkserver preloads it.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from measurements.core.case import measure_image_shapes


@dataclass(frozen=True)
class PreviewJob:
    """One image to measure, as plain data (it crosses a process boundary)."""

    image: int
    shapes: list[dict[str, Any]]
    spacing: tuple[float, float] | None
    rows: int
    columns: int
    view: str | None
    reference: str


class PreviewBusyError(Exception):
    """Every preview slot stayed taken for the whole budget."""


class PreviewTimeoutError(Exception):
    """The preview ran past its budget and was stopped."""


class PreviewFailedError(Exception):
    """The child process died or raised; the message says how."""


def measure_jobs(jobs: list[PreviewJob]) -> list[dict[str, Any]]:
    """Measure each job's image (the work itself, in whichever process runs it)."""
    results = []
    for job in jobs:
        result = measure_image_shapes(
            shapes=job.shapes,
            spacing=job.spacing,
            image_shape=(job.rows, job.columns),
            view=job.view,
            reference=job.reference,
            both_references=job.reference == "C3C7",
            with_profile=False,
        )
        result["image"] = job.image
        results.append(result)
    return results


def _child(jobs: list[PreviewJob], conn: Connection) -> None:
    try:
        conn.send(("ok", measure_jobs(jobs)))
    except Exception as exc:  # reported to the parent, which raises it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


_context: Any = None
_context_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def _fork_context() -> Any:
    global _context  # noqa: PLW0603 - one forkserver per process, started on first use
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _context = context
        return _context


def _slot(slots: int) -> threading.BoundedSemaphore:
    with _context_lock:
        return _slots.setdefault(slots, threading.BoundedSemaphore(slots))


def preview_run(*, jobs: list[PreviewJob], budget_s: float, slots: int) -> list[dict[str, Any]]:
    """Measure ``jobs`` in a child process; raise PreviewBusyError, PreviewTimeoutError or
    PreviewFailedError instead of waiting longer than ``budget_s`` in all."""
    if not jobs:
        return []
    deadline = time.monotonic() + budget_s
    slot = _slot(slots)
    if not slot.acquire(timeout=budget_s):
        raise PreviewBusyError
    try:
        context = _fork_context()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(jobs, sender), daemon=True)
        process.start()
        sender.close()
        try:
            if not receiver.poll(max(0.0, deadline - time.monotonic())):
                raise PreviewTimeoutError
            status, payload = receiver.recv()
        except EOFError as exc:
            ended = f"the preview process ended (exit code {process.exitcode})"
            raise PreviewFailedError(ended) from exc
        finally:
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join()
    finally:
        slot.release()
    if status != "ok":
        raise PreviewFailedError(str(payload))
    return list(payload)
