"""Read many DICOM files in worker processes: parsing, decoding, hashing and writing slices
all hold Python's GIL for part of their time, so one process cannot keep several cores busy.

Small imports are read in this process (a pool costs more to start than they take). The
pool forks this process: the workers start at once and, unlike spawned ones, do not run
the ``__main__`` module again (a script without a main guard would otherwise run once per
worker). They only read files and write pixel files, never touch the database, and leave
through ``os._exit``. The parent adopts the pixel files they created, so a refused or
failed import still deletes them. Where fork is not available, files are read here.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from django.conf import settings

from annotation.ingest.dicom_read import DicomSlice, read_dicom
from annotation.ingest.files import InputFile
from annotation.ingest.pixelstore import PixelWriter, SyncSink
from annotation.ingest.types import Refused

# Below this many files, reading in this process is faster than feeding a pool.
POOL_MIN_FILES = 48
_MAX_WORKERS = 8
_CHUNK = 8

Options = tuple[str, int, int]
Outcome = tuple[str, list[DicomSlice] | None, str | None]


def _workers() -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        available = os.cpu_count() or 1
    return min(_MAX_WORKERS, available)


def _apply(options: Options) -> None:
    """Give a worker the settings the parent runs with (tests override them at run time)."""
    root, max_pixels, max_slices = options
    values = {
        "PIXEL_ROOT": Path(root),
        "INGEST_MAX_IMAGE_PIXELS": max_pixels,
        "INGEST_MAX_SERIES_SLICES": max_slices,
    }
    if not settings.configured:
        settings.configure(**values)
        return
    for name, value in values.items():
        setattr(settings, name, value)


def _read_chunk(options: Options, jobs: list[tuple[str, str]]) -> list[Outcome]:
    """Worker side: read each file, write its slices, return what the parent needs."""
    _apply(options)
    sink = SyncSink()
    outcomes: list[Outcome] = []
    for path, file in jobs:
        try:
            slices = read_dicom(Path(path), file=file, sink=sink)
        except Refused as refusal:
            outcomes.append((file, None, refusal.reason))
            continue
        except Exception as exc:  # anything else is this file's problem, not the import's
            outcomes.append((file, None, f"could not be read ({type(exc).__name__})"))
            continue
        for item in slices:
            item.pending = item.stored()  # a plain result crosses the process boundary
        outcomes.append((file, slices, None))
    return outcomes


def read_dicom_files(
    files: list[InputFile], *, writer: PixelWriter
) -> Iterator[tuple[InputFile, list[DicomSlice] | Refused]]:
    """Read every file, in order; each gives its slices or the reason it was refused."""
    if (
        len(files) < POOL_MIN_FILES
        or _workers() < 2
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        yield from _read_here(files, writer)
        return
    options: Options = (
        str(settings.PIXEL_ROOT),
        int(settings.INGEST_MAX_IMAGE_PIXELS),
        int(settings.INGEST_MAX_SERIES_SLICES),
    )
    chunks = [files[i : i + _CHUNK] for i in range(0, len(files), _CHUNK)]
    done = 0
    pool = ProcessPoolExecutor(
        max_workers=min(_workers(), len(chunks)), mp_context=multiprocessing.get_context("fork")
    )
    try:
        futures = [
            pool.submit(_read_chunk, options, [(str(f.path), f.file) for f in chunk])
            for chunk in chunks
        ]
        for chunk, future in zip(chunks, futures, strict=True):
            for item, (_file, slices, reason) in zip(chunk, future.result(), strict=True):
                done += 1
                if slices is None:
                    yield item, Refused(reason or "could not be read")
                    continue
                for piece in slices:
                    writer.adopt(piece.stored())
                yield item, slices
    except BrokenProcessPool:
        # A worker died (killed, out of memory): read the rest here. Pixel files of its
        # unfinished chunk were not adopted; a later import of the same slices reuses them.
        yield from _read_here(files[done:], writer)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _read_here(
    files: list[InputFile], writer: PixelWriter
) -> Iterator[tuple[InputFile, list[DicomSlice] | Refused]]:
    for item in files:
        try:
            yield item, read_dicom(item.path, file=item.file, sink=writer)
        except Refused as refusal:
            yield item, refusal
