"""The live measurement preview runs in a child process with a time budget.

Parsing, checking and measuring a preview is pure Python and numpy: in the server process
a large one held the GIL and a pixel request waited seconds behind it. So the server only
checks access and hands the raw body, with the case's image geometry, to a child forked
from a forkserver that has already imported this module (a fork costs milliseconds); the
server thread waits on a pipe and kills a child past its budget. At most ``slots``
previews run at once per server process. This module must not import Django settings,
models or DRF: the forkserver preloads it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from annotation.jsonlimits import json_depth
from annotation.shapes import shapes_structure_validate
from measurements.core.case import measure_image_shapes

REFERENCES = ("C3C7", "adjacent")
CHILD_NICENESS = 10
# Labels whose presence makes an image worth measuring (saves use the same set).
MEASURED_LABELS = {"cord", "canal", "d_i", "d_a", "d_b", "D_i", "D_a", "D_b", "T", "S"}


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


@dataclass(frozen=True)
class ImageInfo:
    """What measuring needs of one image of the case."""

    rows: int
    columns: int
    spacing: tuple[float, float] | None
    view: str | None


@dataclass(frozen=True)
class PreviewRequest:
    """A preview as the server received it: the raw JSON body and the case's images."""

    body: bytes
    images: dict[str, ImageInfo]
    max_depth: int
    max_points: int


class PreviewInvalidError(Exception):
    """The body is not a valid preview; ``payload`` is the 400 answer."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("detail", "invalid preview"))
        self.payload = payload


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


def _parse(request: PreviewRequest) -> tuple[dict[str, Any], str]:
    """The shapes by image and the reference of a preview body; raises PreviewInvalidError."""
    if json_depth(request.body) > request.max_depth:
        detail = f"JSON parse error - nested deeper than {request.max_depth} levels"
        raise PreviewInvalidError({"detail": detail, "code": "parse_error"})
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        detail = f"JSON parse error - {exc}"
        raise PreviewInvalidError({"detail": detail, "code": "parse_error"}) from exc
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), dict):
        raise PreviewInvalidError({"shapes": ["an object of shape lists by image id"]})
    reference = data.get("reference", "C3C7")
    if reference not in REFERENCES:
        raise PreviewInvalidError({"reference": [f"one of {', '.join(REFERENCES)}"]})
    shapes: dict[str, Any] = data["shapes"]
    errors = shapes_structure_validate(shapes=shapes, max_points=request.max_points)
    if errors:
        raise PreviewInvalidError(
            {
                "detail": f"{len(errors)} problem(s); nothing was measured",
                "errors": [error.as_dict() for error in errors[:100]],
            }
        )
    return shapes, str(reference)


def preview_compute(request: PreviewRequest) -> list[dict[str, Any]]:
    """Parse, check and measure a preview body (the work itself, in the child)."""
    shapes, reference = _parse(request)
    jobs = [
        PreviewJob(
            image=int(key),
            shapes=items,
            spacing=info.spacing,
            rows=info.rows,
            columns=info.columns,
            view=info.view,
            reference=reference,
        )
        for key, items in shapes.items()
        if (info := request.images.get(str(key))) is not None
        and any(isinstance(s, dict) and s.get("label") in MEASURED_LABELS for s in items)
    ]
    return measure_jobs(jobs)


def _child(request: PreviewRequest, conn: Connection) -> None:
    # Below the server in the scheduler: on a small machine the previews must not take
    # the CPU from pixel requests.
    os.nice(CHILD_NICENESS)
    try:
        conn.send(("ok", preview_compute(request)))
    except PreviewInvalidError as exc:
        conn.send(("invalid", exc.payload))
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


def preview_run(*, request: PreviewRequest, budget_s: float, slots: int) -> list[dict[str, Any]]:
    """preview_compute in a child process; raise PreviewInvalidError (a bad body),
    PreviewBusyError, PreviewTimeoutError or PreviewFailedError instead of waiting longer
    than ``budget_s`` in all."""
    deadline = time.monotonic() + budget_s
    slot = _slot(slots)
    if not slot.acquire(timeout=budget_s):
        raise PreviewBusyError
    try:
        context = _fork_context()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(request, sender), daemon=True)
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
    if status == "invalid":
        raise PreviewInvalidError(payload)
    if status != "ok":
        raise PreviewFailedError(str(payload))
    return list(payload)
