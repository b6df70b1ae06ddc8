"""The pixel store: one raw little-endian file per slice under PIXEL_ROOT, written atomically.

Raw files (no container) let the pixel API hand bytes to the browser without decoding or
copying; the dtype and shape live on the Series row. Files are content-addressed by
sha256, so the ETag is known without reading the file and a re-import writes nothing new.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
from django.conf import settings

# The dtypes the browser understands; everything else is converted at ingest.
SUPPORTED_DTYPES = {"uint8", "uint16", "int16", "float32"}


# Folders known to exist: creating (or checking) one per slice was a visible part of ingest.
_known_folders: set[Path] = set()


def pixel_root() -> Path:
    return Path(settings.PIXEL_ROOT)


def normalise_dtype(array: np.ndarray) -> np.ndarray:
    """Return the slice in a dtype the viewer reads, without losing bit depth."""
    if array.dtype.name in SUPPORTED_DTYPES:
        return array
    if np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min(initial=0)), int(array.max(initial=0))
        if low >= 0 and high <= np.iinfo(np.uint16).max:
            return array.astype(np.uint16)
        if low >= np.iinfo(np.int16).min and high <= np.iinfo(np.int16).max:
            return array.astype(np.int16)
    return array.astype(np.float32)


def _temp_file(folder: Path) -> tuple[int, str]:
    if folder not in _known_folders:
        folder.mkdir(parents=True, exist_ok=True)
        _known_folders.add(folder)
    try:
        return tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".raw")
    except FileNotFoundError:
        # The folder went away (a test's temporary store was removed): create it again.
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".raw")


def pixel_write(array: np.ndarray) -> tuple[str, str, bool]:
    """Store one 2-D slice; return (relative path, sha256, created).

    ``created`` is False when identical bytes were already stored, so a caller that
    rolls back must not delete a file it did not create.
    """
    if array.ndim != 2:
        raise ValueError(f"a slice must be 2-D, got shape {array.shape}")
    # Hash and write the array's own buffer: no copy unless the layout needs one.
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).data.cast("B")
    digest = hashlib.sha256(data).hexdigest()
    # One folder level (256 folders): a second level cost a directory creation per new
    # slice, which dominated ingest time. Paths are stored per row, so layouts may mix.
    relative = f"{digest[:2]}/{digest}.raw"
    target = pixel_root() / relative
    if target.exists():
        return relative, digest, False
    fd, temp_name = _temp_file(target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return relative, digest, True


def pixel_read_bytes(relative: str) -> bytes:
    return (pixel_root() / relative).read_bytes()


def pixel_read(relative: str, *, dtype: str, rows: int, columns: int) -> np.ndarray:
    data = np.frombuffer(pixel_read_bytes(relative), dtype=np.dtype(dtype).newbyteorder("<"))
    return data.reshape(rows, columns)


def pixel_delete(relatives: list[str]) -> None:
    """Remove files written by an import that was rolled back."""
    for relative in relatives:
        (pixel_root() / relative).unlink(missing_ok=True)
