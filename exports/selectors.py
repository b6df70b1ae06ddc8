"""Which reads an export takes, and their cases as ``CaseBundle``s, loaded a chunk at a time.

The selection (gold, a reader group, one annotator, one model version) is narrowed by what
the requesting member may see (``visible_reads_q``: blinding and unaided roles), so nobody
exports a read they could not open. Gold exports the newest signed revision of the gold
read (an edit after signing is not gold until signed again); other reads their head.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import Max, QuerySet

from annotation.models import (
    Case,
    Image,
    Membership,
    Project,
    Read,
    ReadKind,
    Revision,
    Series,
)
from annotation.permissions import visible_reads_q
from annotation.selectors.design import role_unaided
from exports.bundle import CaseBundle, ImageRef, MeasurementBundle, ReadBundle, SeriesBundle
from exports.models import ExportJob, SelectionKind
from inference.models import PrelabelJob
from measurements.models import MeasurementResult

CHUNK_CASES = 50

_STUDY_UID, _FRAME_OF_REFERENCE, _SOP_CLASS = "0020000D", "00200052", "00080016"


def selected_reads(
    *, project: Project, kind: str, value: str, split: str, user: Any, role: str | None
) -> QuerySet[Read]:
    """The reads an export of this selection takes, limited to what ``user`` may see."""
    reads = Read.objects.filter(case__project=project, head__isnull=False)
    if split:
        reads = reads.filter(case__split=split)
    if kind == SelectionKind.GOLD:
        reads = reads.filter(kind=ReadKind.GOLD, signatures__isnull=False)
    elif kind == SelectionKind.GROUP:
        authors = Membership.objects.filter(project=project, role=value).values("user_id")
        reads = reads.filter(kind=ReadKind.HUMAN, author_id__in=authors)
    elif kind == SelectionKind.ANNOTATOR:
        reads = reads.filter(kind=ReadKind.HUMAN, author_id=int(value))
    elif kind == SelectionKind.MODEL:
        made = PrelabelJob.objects.filter(model_versions__id=int(value)).values("read_id")
        reads = reads.filter(kind=ReadKind.MODEL, pk__in=made)
    else:
        return reads.none()
    unaided = role_unaided(project_id=project.pk, role=role)
    visible = visible_reads_q(user=user, role=role, blinded=project.blinded, unaided=unaided)
    return reads.filter(visible).distinct()


def job_reads(job: ExportJob, *, role: str | None) -> QuerySet[Read]:
    return selected_reads(
        project=job.project,
        kind=job.selection_kind,
        value=job.selection_value,
        split=job.split,
        user=job.created_by,
        role=role,
    )


def _header_uid(header: dict[str, Any], tag: str) -> str | None:
    values = header.get(tag, {}).get("Value") or []
    return str(values[0]) if values else None


def _vector(values: Any) -> tuple[float, float, float] | None:
    if isinstance(values, list) and len(values) == 3:
        return (float(values[0]), float(values[1]), float(values[2]))
    return None


def _series_bundles(case_ids: list[int]) -> dict[int, list[SeriesBundle]]:
    images: dict[int, list[ImageRef]] = defaultdict(list)
    rows = Image.objects.filter(series__case_id__in=case_ids).order_by("series_id", "index")
    sources = dict(
        Series.objects.filter(case_id__in=case_ids).values_list("id", "source").iterator()
    )
    for image in rows.values_list(
        "series_id", "id", "index", "uid", "image_position", "pixel_path", "min_value", "max_value"
    ).iterator():
        series_id, pk, index, uid, position, path, low, high = image
        images[series_id].append(
            ImageRef(
                id=pk,
                index=index,
                sop_instance_uid=uid if sources.get(series_id) == "dicom" else None,
                position=_vector(position),
                pixel_path=path,
                min_value=low,
                max_value=high,
            )
        )
    out: dict[int, list[SeriesBundle]] = defaultdict(list)
    for s in Series.objects.filter(case_id__in=case_ids).defer("thumbnail").order_by("case_id"):
        dicom = s.source == "dicom"
        header = s.header if dicom and isinstance(s.header, dict) else {}
        out[s.case_id].append(
            SeriesBundle(
                id=s.pk,
                number=s.number,
                description=s.description,
                orientation=s.orientation,
                modality=s.modality,
                source=s.source,
                rows=s.rows,
                columns=s.columns,
                dtype=s.dtype,
                pixel_spacing=(s.pixel_spacing_row, s.pixel_spacing_col),
                spacing_known=s.spacing_known,
                slice_thickness=s.slice_thickness,
                slice_spacing=s.slice_spacing,
                row_direction=_vector(s.row_direction),
                column_direction=_vector(s.column_direction),
                window_center=s.window_center,
                window_width=s.window_width,
                series_instance_uid=s.uid,
                study_instance_uid=_header_uid(header, _STUDY_UID),
                frame_of_reference_uid=_header_uid(header, _FRAME_OF_REFERENCE),
                sop_class_uid=_header_uid(header, _SOP_CLASS),
                header=header,
                images=tuple(images.get(s.pk, [])),
            )
        )
    for items in out.values():
        items.sort(key=lambda b: (b.number, b.id))
    return out


def _exported_revisions(reads: QuerySet[Read], case_ids: list[int]) -> dict[int, int]:
    """read id -> the revision to export (gold: newest signed; others: head)."""
    rows = reads.filter(case_id__in=case_ids).annotate(signed=Max("signatures__revision_id"))
    return {
        pk: (signed if kind == ReadKind.GOLD else head)
        for pk, kind, head, signed in rows.values_list("id", "kind", "head_id", "signed")
    }


def _measurements(revision_ids: list[int]) -> dict[int, list[MeasurementBundle]]:
    out: dict[int, list[MeasurementBundle]] = defaultdict(list)
    rows = MeasurementResult.objects.filter(revision_id__in=revision_ids).order_by(
        "revision_id", "image_id"
    )
    for rev, image, view, values, warnings, missing, version in rows.values_list(
        "revision_id", "image_id", "view", "values", "warnings", "missing", "algorithm_version"
    ):
        out[rev].append(
            MeasurementBundle(
                image_id=image,
                view=view,
                values=values,
                warnings=tuple(warnings),
                missing=tuple(missing),
                algorithm_version=version,
            )
        )
    return out


def _model_versions(read_ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, set[str]] = defaultdict(set)
    rows = PrelabelJob.objects.filter(read_id__in=read_ids, model_versions__isnull=False)
    for read_id, pk, task, name in rows.values_list(
        "read_id", "model_versions__id", "model_versions__task", "model_versions__name"
    ):
        found[read_id].add(f"{task} #{pk} {name}")
    return {read_id: tuple(sorted(names)) for read_id, names in found.items()}


def _author_role(kind: str, author_id: int | None, roles: dict[int, str]) -> str:
    if kind != ReadKind.HUMAN:
        return str(kind)
    return roles.get(author_id or 0, "former member")


def _read_bundles(
    reads: QuerySet[Read], case_ids: list[int], project_id: int
) -> dict[int, list[ReadBundle]]:
    revision_of = _exported_revisions(reads, case_ids)
    revisions = {
        r["id"]: r
        for r in Revision.objects.filter(pk__in=revision_of.values()).values(
            "id", "read_id", "number", "shapes", "case_fields"
        )
    }
    info = list(
        Read.objects.filter(pk__in=revision_of)
        .order_by("case_id", "id")
        .values_list("id", "case_id", "kind", "author_id")
    )
    authors = {author for _, _, _, author in info if author is not None}
    roles = dict(
        Membership.objects.filter(project_id=project_id, user_id__in=authors).values_list(
            "user_id", "role"
        )
    )
    measured = _measurements(list(revisions))
    versions = _model_versions([pk for pk, _, kind, _ in info if kind == ReadKind.MODEL])
    out: dict[int, list[ReadBundle]] = defaultdict(list)
    for pk, case_id, kind, author in info:
        revision = revisions.get(revision_of[pk])
        if revision is None:
            continue
        out[case_id].append(
            ReadBundle(
                read_id=pk,
                kind=kind,
                author_role=_author_role(kind, author, roles),
                revision_id=revision["id"],
                revision_number=revision["number"],
                model_versions=versions.get(pk, ()),
                shapes={int(k): list(v) for k, v in revision["shapes"].items()},
                case_fields=dict(revision["case_fields"]),
                measurements=tuple(measured.get(revision["id"], [])),
            )
        )
    return out


def selected_case_ids(reads: QuerySet[Read]) -> list[int]:
    return sorted(set(reads.values_list("case_id", flat=True)))


def case_bundles(
    *, reads: QuerySet[Read], case_ids: list[int], project_id: int, chunk: int = CHUNK_CASES
) -> Iterator[CaseBundle]:
    """One bundle per case, in id order; at most ``chunk`` cases' rows in memory at once."""
    for start in range(0, len(case_ids), chunk):
        ids = case_ids[start : start + chunk]
        series = _series_bundles(ids)
        read_bundles = _read_bundles(reads, ids, project_id)
        rows = Case.objects.filter(pk__in=ids).order_by("id")
        for pk, pseudonym, split in rows.values_list("id", "pseudonym", "split"):
            yield CaseBundle(
                case_id=pk,
                pseudonym=pseudonym,
                split=split,
                series=tuple(series.get(pk, [])),
                reads=tuple(read_bundles.get(pk, [])),
            )
