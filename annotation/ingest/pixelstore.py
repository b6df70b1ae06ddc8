"""Slices go to the pixel store on worker threads while the next file is parsed.

Hashing and writing release the GIL, so they overlap with pydicom's parsing on another
core. The writer remembers which files this import created: whatever was created but not
committed (a refused series, a failed transaction) is deleted when the import ends. A file
that already existed is never deleted, and neither is one that a committed slice shares
with a refused one (the store is content-addressed, so blank slices often coincide).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

import numpy as np

from annotation.ingest.imaging import subsample
from annotation.pixels import pixel_delete, pixel_write

# Enough threads to keep hashing and writing off the parsing thread; bounded so a fast
# reader cannot pile up a whole series in memory while the disk catches up.
_WORKERS = 3
_MAX_PENDING = 48


@dataclass(frozen=True)
class StoredSlice:
    path: str
    sha256: str
    min_value: float
    max_value: float
    created: bool = False  # this write made the file (it did not exist before)
    # A few thousand of the slice's pixels for the series' default window, taken on the
    # writer's thread (the reading thread is the one an import waits on).
    sample: np.ndarray | None = field(default=None, compare=False, repr=False)


class SliceSink(Protocol):
    """Where a reader sends decoded slices: a PixelWriter, or a worker's SyncSink."""

    def submit(self, array: np.ndarray) -> Future[StoredSlice]: ...


def store_slice(array: np.ndarray) -> StoredSlice:
    low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    path, digest, created = pixel_write(array)
    return StoredSlice(
        path=path,
        sha256=digest,
        min_value=low,
        max_value=high,
        created=created,
        sample=subsample(array),
    )


class SyncSink:
    """Writes at once (worker processes; the parent adopts what they created)."""

    def submit(self, array: np.ndarray) -> Future[StoredSlice]:
        future: Future[StoredSlice] = Future()
        future.set_result(store_slice(array))
        return future


class PixelWriter:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="ingest-pixels")
        self._slots = threading.BoundedSemaphore(_MAX_PENDING)
        self._lock = threading.Lock()
        self._created: set[str] = set()
        self._committed: set[str] = set()

    def __enter__(self) -> PixelWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def submit(self, array: np.ndarray) -> Future[StoredSlice]:
        """Queue one 2-D slice (already in its stored dtype); blocks while too many are queued."""
        self._slots.acquire()
        try:
            return self._pool.submit(self._write, array)
        except BaseException:
            self._slots.release()
            raise

    def write(self, array: np.ndarray) -> StoredSlice:
        """Store one slice now (for rewrites during assembly)."""
        return self._write(array, release=False)

    def _write(self, array: np.ndarray, release: bool = True) -> StoredSlice:
        try:
            stored = store_slice(array)
            self.adopt(stored)
            return stored
        finally:
            if release:
                self._slots.release()

    def adopt(self, stored: StoredSlice) -> None:
        """Take charge of a file another process wrote for this import."""
        if stored.created:
            with self._lock:
                self._created.add(stored.path)

    def commit(self, paths: list[str]) -> None:
        """Mark files referenced by committed rows: they survive close()."""
        with self._lock:
            self._committed.update(paths)

    def close(self) -> None:
        """Wait for queued writes, then delete what this import created but did not commit."""
        self._pool.shutdown(wait=True)
        with self._lock:
            garbage = sorted(self._created - self._committed)
            self._created.clear()
        pixel_delete(garbage)
