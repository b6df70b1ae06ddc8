"""Write one planned study as rows, in one transaction, and keep its originals if asked.

The project row is locked for the transaction, so two imports into one project cannot
both take the next pseudonym or both create the case of the same study. A study that is
already there gets only the series it lacks.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from annotation.ingest.deid import pseudonymise_header, source_key
from annotation.ingest.types import PlannedRead, PlannedStudy
from annotation.models import Case, Image, Project, Read, ReadKind, Series
from annotation.models.reads import RevisionSource
from annotation.services.reads import read_create_imported
from annotation.services.revisions import revision_create

logger = logging.getLogger(__name__)


@dataclass
class StoredStudy:
    case_id: int
    pseudonym: str
    created: bool
    series: int = 0
    images: int = 0
    # Imported reads created or given a new revision (a re-import with changed shapes).
    reads: int = 0
    pixel_paths: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _next_pseudonym(project: Project) -> str:
    prefix = f"{project.pseudonym_prefix}-"
    pattern = re.compile(re.escape(prefix) + r"(\d+)$")
    taken = Case.objects.filter(project=project, pseudonym__startswith=prefix).values_list(
        "pseudonym", flat=True
    )
    numbers = [int(m.group(1)) for p in taken if (m := pattern.match(p))]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def study_store(*, project: Project, study: PlannedStudy) -> StoredStudy:
    """Create (or complete) the study's case; returns what was written."""
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        key = source_key(salt=locked.pseudonym_salt, identity=study.identity)
        case = Case.objects.filter(project=locked, source_key=key).first()
        created = case is None
        if case is None:
            case = Case.objects.create(
                project=locked, pseudonym=_next_pseudonym(locked), source_key=key
            )
        result = StoredStudy(case_id=case.pk, pseudonym=case.pseudonym, created=created)
        existing = set(Series.objects.filter(case=case).values_list("uid", flat=True))
        images: list[Image] = []
        for planned in study.series:
            if planned.uid in existing:
                continue
            header = planned.header
            if planned.source == "dicom":
                header = pseudonymise_header(header, pseudonym=case.pseudonym)
            series = Series.objects.create(
                case=case,
                uid=planned.uid,
                number=planned.number,
                description=planned.description,
                orientation=planned.orientation,
                modality=planned.modality,
                source=planned.source,
                rows=planned.rows,
                columns=planned.columns,
                pixel_spacing_row=planned.pixel_spacing_row,
                pixel_spacing_col=planned.pixel_spacing_col,
                spacing_known=planned.spacing_known,
                slice_thickness=planned.slice_thickness,
                slice_spacing=planned.slice_spacing,
                row_direction=planned.row_direction,
                column_direction=planned.column_direction,
                dtype=planned.dtype,
                window_center=planned.window_center,
                window_width=planned.window_width,
                header=header,
                thumbnail=planned.thumbnail,
            )
            result.series += 1
            images.extend(
                Image(
                    series=series,
                    index=index,
                    position=image.position,
                    image_position=image.image_position,
                    uid=image.uid,
                    pixel_path=image.pixel_path,
                    sha256=image.sha256,
                    min_value=image.min_value,
                    max_value=image.max_value,
                )
                for index, image in enumerate(planned.images)
            )
        Image.objects.bulk_create(images, batch_size=1000)
        result.images = len(images)
        result.pixel_paths = [image.pixel_path for image in images]
        if study.reads:
            _store_reads(case, study, result)
    return result


def _store_reads(case: Case, study: PlannedStudy, result: StoredStudy) -> None:
    uid_of_key = {image.key: image.uid for s in study.series for image in s.images}
    id_of_uid = dict(Image.objects.filter(series__case=case).values_list("uid", "id"))
    for planned in study.reads:
        shapes = _shapes_by_image(planned, uid_of_key, id_of_uid)
        if not shapes:
            continue
        existing = (
            Read.objects.filter(case=case, kind=ReadKind.IMPORTED, name=planned.name[:200])
            .select_related("head")
            .first()
        )
        if existing is None:
            read_create_imported(
                case=case, name=planned.name, shapes=shapes, case_fields=planned.case_fields
            )
            result.reads += 1
        elif existing.head is None or (existing.head.shapes, existing.head.case_fields) != (
            shapes,
            planned.case_fields,
        ):
            revision_create(
                read=existing,
                parent_id=existing.head_id,
                shapes=shapes,
                case_fields=planned.case_fields,
                source=RevisionSource.IMPORT,
                message=f"re-imported {planned.name}",
            )
            result.reads += 1
            result.notes.append(f"{case.pseudonym}: {planned.name} re-imported as a new revision")


def _shapes_by_image(
    planned: PlannedRead, uid_of_key: dict[str, str], id_of_uid: dict[str, int]
) -> dict[str, list[dict[str, object]]]:
    shapes: dict[str, list[dict[str, object]]] = {}
    for key, items in planned.shapes.items():
        image_id = id_of_uid.get(uid_of_key.get(key, ""))
        if image_id is not None and items:
            shapes.setdefault(str(image_id), []).extend(items)
    return shapes


def originals_keep(*, project: Project, pseudonym: str, study: PlannedStudy) -> int:
    """Copy the study's original files under DATA_DIR/originals/<project>/<case>/.

    That folder is never served. Each copy is atomic (temp file, then rename); a failure
    removes this call's copies and re-raises.
    """
    root = Path(settings.DATA_DIR) / "originals" / project.slug / pseudonym
    written: list[Path] = []
    try:
        for source, name in study.originals:
            target = root / name
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as sink, source.open("rb") as handle:
                    shutil.copyfileobj(handle, sink)
                Path(temp_name).replace(target)
            except BaseException:
                Path(temp_name).unlink(missing_ok=True)
                raise
            written.append(target)
    except OSError:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return len(written)
