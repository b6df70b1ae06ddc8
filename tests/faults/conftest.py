"""One private at-scale stack per test process, shared by the fault tests of this folder.

Each test leaves PostgreSQL and Redis running again (in `finally`), so the next one starts
from a working stack; the stack never touches the machine's shared services.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.stack import Stack, stack_start


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    started = stack_start(servers=2, worker=True, annotators=3, reviewers=1, leads=1, cases=2)
    try:
        yield started
    finally:
        started.close()
