"""Live event for new measurement results."""

from __future__ import annotations

from annotation.live import _send_now, case_group
from annotation.models import Revision


def announce_measurements(revision: Revision) -> None:
    # Already after commit (registered as an on-commit hook): send without re-queueing.
    read = revision.read
    _send_now(
        case_group(read.case_id),
        {
            "type": "live.event",
            "event": {
                "type": "measurement.updated",
                "revision": revision.pk,
                "read": read.pk,
                "read_author": read.author_id,
            },
        },
    )
