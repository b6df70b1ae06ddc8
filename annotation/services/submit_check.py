"""What a read still lacks before its author may submit it: the template's required shapes
(cord and canal on the sagittal mid-slice, every point of the sagittal keypoint sets, axial
cord and canal at the compression level) and the keypoint plausibility rules (the same rules
as the annotator's side panel, frontend/src/core/keypoints)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Structures whose outline is required when the template has a label of that name.
OUTLINE_LABELS: tuple[str, ...] = ("cord", "canal")
OUTLINE_TYPES = frozenset({"polygon", "mask"})
CORNER = re.compile(r"^(.+)_(AS|AI|PS|PI)$")

Point = tuple[float, float]


@dataclass(frozen=True)
class ImageRef:
    id: int
    series_id: int
    orientation: str
    index: int


@dataclass(frozen=True)
class Problem:
    code: str  # missing_outline | missing_keypoints | implausible_keypoints
    message: str
    image: int | None = None
    names: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "image": self.image,
            "names": list(self.names),
        }


def _labels(shapes: Iterable[Mapping[str, Any]], types: frozenset[str]) -> set[str]:
    return {str(s.get("label")) for s in shapes if s.get("shape_type") in types}


def _mid_slices(images: Sequence[ImageRef]) -> list[ImageRef]:
    """The middle image of each sagittal series (both middles of an even count)."""
    out: list[ImageRef] = []
    by_series: dict[int, list[ImageRef]] = {}
    for image in images:
        if image.orientation == "sagittal":
            by_series.setdefault(image.series_id, []).append(image)
    for series in by_series.values():
        ordered = sorted(series, key=lambda i: i.index)
        n = len(ordered)
        out.extend({ordered[(n - 1) // 2], ordered[n // 2]})
    return sorted(out, key=lambda i: (i.series_id, i.index))


def _outline_problems(
    *, wanted: Sequence[str], images: Sequence[ImageRef], shapes: Mapping[str, Any]
) -> list[Problem]:
    problems: list[Problem] = []
    mids = _mid_slices(images)
    if wanted and mids:
        best = max(
            mids, key=lambda i: len(_labels(shapes.get(str(i.id), []), OUTLINE_TYPES) & set(wanted))
        )
        missing = [
            n for n in wanted if n not in _labels(shapes.get(str(best.id), []), OUTLINE_TYPES)
        ]
        if missing:
            problems.append(
                Problem(
                    "missing_outline",
                    f"{' and '.join(missing)} on the sagittal mid-slice (slice {best.index + 1})",
                    best.id,
                    tuple(missing),
                )
            )
    axials = [i for i in images if i.orientation == "axial"]
    if wanted and axials:
        # The compression level is the axial slice the reader outlined: the fullest one.
        best = max(
            axials,
            key=lambda i: len(_labels(shapes.get(str(i.id), []), OUTLINE_TYPES) & set(wanted)),
        )
        drawn = _labels(shapes.get(str(best.id), []), OUTLINE_TYPES)
        missing = [n for n in wanted if n not in drawn]
        if missing:
            where = f" (slice {best.index + 1})" if drawn & set(wanted) else ""
            problems.append(
                Problem(
                    "missing_outline",
                    f"axial {' and '.join(missing)} at the compression level{where}",
                    best.id if where else None,
                    tuple(missing),
                )
            )
    return problems


def _placed(points: Sequence[str], shapes: Iterable[Mapping[str, Any]]) -> dict[str, Point]:
    placed: dict[str, Point] = {}
    for s in shapes:
        label, pts = s.get("label"), s.get("points") or []
        if s.get("shape_type") == "point" and label in points and pts and label not in placed:
            placed[str(label)] = (float(pts[0][0]), float(pts[0][1]))
    return placed


def _mean(points: Iterable[Point | None]) -> Point | None:
    q = [p for p in points if p is not None]
    if not q:
        return None
    return (sum(p[0] for p in q) / len(q), sum(p[1] for p in q) / len(q))


def _vertebrae(
    points: Sequence[str], placed: Mapping[str, Point]
) -> list[tuple[str, dict[str, Point | None]]]:
    out: dict[str, dict[str, Point | None]] = {}
    for name in points:
        match = CORNER.match(name)
        if match:
            out.setdefault(match[1], {})[match[2]] = placed.get(name)
    return list(out.items())


def keypoint_warnings(
    points: Sequence[str], shapes: Iterable[Mapping[str, Any]]
) -> list[tuple[tuple[str, ...], str]]:
    """frontend core/keypoints keypointWarnings, on the server: superior corners above
    inferior ones, posterior behind anterior (by the majority's sense), vertebrae in order."""
    placed = _placed(points, shapes)
    vs = _vertebrae(points, placed)
    out: list[tuple[tuple[str, ...], str]] = []
    for v, c in vs:
        for side in ("A", "P"):
            sup, inf = c.get(f"{side}S"), c.get(f"{side}I")
            if sup and inf and not sup[1] < inf[1]:
                out.append(
                    ((f"{v}_{side}S", f"{v}_{side}I"), f"{v}_{side}S should lie above {v}_{side}I")
                )
    sense = []
    for _, c in vs:
        a, p = _mean([c.get("AS"), c.get("AI")]), _mean([c.get("PS"), c.get("PI")])
        sense.append(0 if not a or not p or a[0] == p[0] else (1 if p[0] > a[0] else -1))
    posterior = -1 if sum(sense) < 0 else 1
    for (v, c), s in zip(vs, sense, strict=True):
        if s not in (0, posterior):
            names = tuple(f"{v}_{k}" for k in ("AS", "AI", "PS", "PI") if c.get(k))
            out.append((names, f"{v}: posterior corners should lie behind the anterior ones"))
    for (v, c), (w, d) in itertools.pairwise(vs):
        upper = _mean([c.get("AI"), c.get("PI")]) or _mean([c.get("AS"), c.get("PS")])
        lower = _mean([d.get("AS"), d.get("PS")]) or _mean([d.get("AI"), d.get("PI")])
        if upper and lower and not upper[1] < lower[1]:
            names = tuple(
                f"{x}_{k}" for x in (v, w) for k in ("AS", "AI", "PS", "PI") if f"{x}_{k}" in placed
            )
            out.append((names, f"{w} should lie below {v}"))
    return out


def _how_many(missing: int, of: int) -> str:
    return f"all {of}" if missing == of else f"{missing} of the {of}"


def _keypoint_problems(
    *, sets: Sequence[Mapping[str, Any]], images: Sequence[ImageRef], shapes: Mapping[str, Any]
) -> list[Problem]:
    problems: list[Problem] = []
    sagittal = [i for i in images if i.orientation == "sagittal"]
    for kset in sets:
        points = [str(p) for p in kset.get("points", [])]
        if kset.get("view", "sagittal") != "sagittal" or not points or not sagittal:
            continue
        best = max(sagittal, key=lambda i: len(_placed(points, shapes.get(str(i.id), []))))
        on_best = shapes.get(str(best.id), [])
        missing = [p for p in points if p not in _placed(points, on_best)]
        if missing:
            problems.append(
                Problem(
                    "missing_keypoints",
                    f"{_how_many(len(missing), len(points))} {kset.get('name', 'keypoints')} "
                    f"on one sagittal slice: {', '.join(missing)}",
                    best.id,
                    tuple(missing),
                )
            )
        for names, message in keypoint_warnings(points, on_best):
            problems.append(Problem("implausible_keypoints", message, best.id, names))
    return problems


def submit_problems(
    *, template: Mapping[str, Any], images: Sequence[ImageRef], shapes: Mapping[str, Any]
) -> list[Problem]:
    """Everything the template requires that the read lacks, and implausible keypoints."""
    names = {
        str(label.get("name")) for label in template.get("labels", []) if isinstance(label, Mapping)
    }
    wanted = [n for n in OUTLINE_LABELS if n in names]
    sets = [s for s in template.get("keypoint_sets", []) if isinstance(s, Mapping)]
    return _outline_problems(wanted=wanted, images=images, shapes=shapes) + _keypoint_problems(
        sets=sets, images=images, shapes=shapes
    )
