"""The review page's reads: every read of a case the user may see, with its head's shapes,
its place in the colour key, and the agreement of every pair of reads.

A fixed number of queries whatever the number of reads and shapes: the reads with their
heads (one), the authors' roles (one), the images' grids (one at most, cached per process).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from django.core.cache import cache

from annotation.models import Case, Membership, Read, ReadKind, Role
from annotation.permissions import UserLike, visible_reads_q
from annotation.selectors.agreement import (
    Grid,
    MaskCache,
    Structures,
    pair_agreement,
    template_structures,
)
from annotation.selectors.design import role_unaided
from annotation.selectors.geometry import image_geometries

logger = logging.getLogger(__name__)
# Bump when the agreement's definition changes: cached figures of the old one are ignored.
AGREEMENT_VERSION = "1"
AGREEMENT_CACHE_S = 7 * 24 * 3600

# Okabe & Ito's palette: told apart with every common colour-vision deficiency.
READ_COLOURS: dict[str, str] = {
    "annotator": "#E69F00",
    "annotator_2": "#56B4E9",
    "reader": "#009E73",
    "model": "#F0E442",
    "imported": "#0072B2",
    "gold": "#D55E00",
    "reviewer": "#CC79A7",
}
KEY_TITLES: dict[str, str] = {
    "annotator": "Annotator",
    "annotator_2": "Second annotator",
    "reader": "Reader",
    "model": "Model",
    "imported": "Imported",
    "gold": "Gold standard",
    "reviewer": "Reviewer",
}


@dataclass(frozen=True)
class ReviewRead:
    """A visible read with its key in the colour legend (``key``, ``colour``, ``title``)."""

    read: Read
    key: str
    colour: str
    title: str


def review_reads(*, case: Case, user: UserLike, role: str) -> list[Read]:
    """The case's reads the user may see, with authors and full head revisions, by id."""
    visible = visible_reads_q(
        user=user,
        role=role,
        blinded=case.project.blinded,
        unaided=role_unaided(project_id=case.project_id, role=role),
    )
    return list(
        Read.objects.filter(visible, case=case)
        .select_related("author", "head__author")
        .defer("head__image_meta")
        .order_by("id")
    )


def _author_roles(*, case: Case, reads: list[Read]) -> dict[int, str]:
    authors = {r.author_id for r in reads if r.author_id is not None}
    if not authors:
        return {}
    return dict(
        Membership.objects.filter(project_id=case.project_id, user_id__in=authors).values_list(
            "user_id", "role"
        )
    )


def _key(read: Read, roles: dict[int, str], annotators_seen: int) -> str:
    if read.kind != ReadKind.HUMAN:
        return str(read.kind)
    role = roles.get(read.author_id or 0)
    if role == Role.ANNOTATOR:
        return "annotator" if annotators_seen == 0 else "annotator_2"
    if role == Role.READER:
        return "reader"
    return "reviewer"  # a reviewer's or lead's own read, or a former member's


def colour_key(*, case: Case, reads: list[Read]) -> list[ReviewRead]:
    """Each read's place in the legend: the first annotator read is "annotator", the next
    ones "annotator_2"; model, imported and gold reads by kind."""
    roles = _author_roles(case=case, reads=reads)
    out: list[ReviewRead] = []
    annotators = 0
    for read in reads:
        key = _key(read, roles, annotators)
        annotators += key.startswith("annotator")
        out.append(ReviewRead(read=read, key=key, colour=READ_COLOURS[key], title=KEY_TITLES[key]))
    return out


def _grids(*, case: Case, reads: list[Read]) -> dict[str, Grid]:
    ids = {key for r in reads if r.head is not None for key in r.head.shapes}
    return {
        key: Grid(rows=g.rows, columns=g.columns, spacing=g.spacing)
        for key, g in image_geometries(case_id=case.pk, image_ids=ids).items()
    }


def _pair_key(structures: Structures, a: Read, b: Read) -> str:
    """Revisions never change: the agreement of two heads is computed once and kept. The
    key names both revisions (id and time, so a reused id after a database reset misses)
    and the template's structures."""
    ha, hb = a.head, b.head
    assert ha is not None
    assert hb is not None
    what = hashlib.sha256(repr((structures.areas, sorted(structures.keypoints))).encode())
    return (
        f"review-agreement:{AGREEMENT_VERSION}:{what.hexdigest()[:16]}:"
        f"{a.pk}.{ha.pk}@{ha.created_at.timestamp()}:{b.pk}.{hb.pk}@{hb.created_at.timestamp()}"
    )


def _cached(keys: list[str]) -> dict[str, Any]:
    try:
        found: dict[str, Any] = cache.get_many(keys)
    except Exception:  # a cache outage only costs the computation
        logger.warning("review agreement cache unavailable", exc_info=True)
        return {}
    return found


def _keep(values: dict[str, Any]) -> None:
    try:
        cache.set_many(values, timeout=AGREEMENT_CACHE_S)
    except Exception:
        logger.warning("review agreement cache unavailable", exc_info=True)


def review_agreement(*, case: Case, reads: list[Read]) -> tuple[Structures, list[dict[str, Any]]]:
    """The template's structures and the agreement of every pair of reads with a head
    (cached per pair of head revisions)."""
    structures = template_structures(case.project.template)
    drawn = [r for r in reads if r.head is not None]
    pairs = list(combinations(drawn, 2))
    keys = [_pair_key(structures, a, b) for a, b in pairs]
    found = _cached(keys) if keys else {}
    missing = [(k, a, b) for k, (a, b) in zip(keys, pairs, strict=True) if k not in found]
    if missing:
        masks = MaskCache(grids=_grids(case=case, reads=drawn))
        fresh = {
            key: pair_agreement(
                cache=masks,
                structures=structures,
                a=(a.pk, a.head.shapes),  # type: ignore[union-attr]
                b=(b.pk, b.head.shapes),  # type: ignore[union-attr]
            )
            for key, a, b in missing
        }
        _keep(fresh)
        found.update(fresh)
    return structures, [found[k] for k in keys]
