"""Image geometry for validation and measurement, cached per process.

Every save validates and measures against its images' size, spacing and orientation. An
image's geometry never changes after ingest (a re-import adds images, it does not alter
them), so it is safe to keep it in memory: a save then queries only images it has not seen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from annotation.models import Image

_MAX_CACHED = 200_000


@dataclass(frozen=True)
class ImageGeometry:
    id: int
    case_id: int
    rows: int
    columns: int
    spacing: tuple[float, float] | None  # (row mm, column mm); None when unknown
    orientation: str
    index: int


_cache: dict[int, ImageGeometry] = {}
_lock = threading.Lock()


def image_geometries(*, case_id: int, image_ids: Iterable[object]) -> dict[str, ImageGeometry]:
    """Geometry of the given images that belong to the case, keyed by str(id); ids that are
    not integers or not images of this case are simply absent."""
    wanted: set[int] = set()
    for raw in image_ids:
        try:
            wanted.add(int(str(raw)))
        except ValueError:
            continue
    with _lock:
        found = {i: _cache[i] for i in wanted if i in _cache}
    missing = wanted - found.keys()
    if missing:
        rows = Image.objects.filter(pk__in=missing).values_list(
            "id",
            "index",
            "series__case_id",
            "series__rows",
            "series__columns",
            "series__pixel_spacing_row",
            "series__pixel_spacing_col",
            "series__spacing_known",
            "series__orientation",
        )
        fresh = {
            pk: ImageGeometry(
                id=pk,
                case_id=case,
                rows=r,
                columns=c,
                spacing=(sr, sc) if known else None,
                orientation=orientation,
                index=index,
            )
            for pk, index, case, r, c, sr, sc, known, orientation in rows
        }
        with _lock:
            if len(_cache) + len(fresh) > _MAX_CACHED:
                _cache.clear()
            _cache.update(fresh)
        found.update(fresh)
    return {str(pk): geo for pk, geo in found.items() if geo.case_id == case_id}


def image_geometry_cache_clear() -> None:
    with _lock:
        _cache.clear()
