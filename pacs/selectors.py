"""Reading a project's PACS: the connection, QIDO-RS study search, and the import jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from annotation.ingest.deid import source_key
from annotation.models import Case, Project
from pacs.client import PacsError, client_for, pacs_faults
from pacs.models import PacsConnection, PacsImport

SEARCH_LIMIT = 100


@dataclass(frozen=True)
class StudyQuery:
    accession_number: str = ""
    date_from: date | None = None
    date_to: date | None = None
    modality: str = ""
    series_description: str = ""


def connection_get(*, project: Project) -> PacsConnection | None:
    return PacsConnection.objects.filter(project=project).first()


def connection_require(*, project: Project) -> PacsConnection:
    connection = connection_get(project=project)
    if connection is None:
        raise PacsError("the project has no PACS connection: a lead sets it on the settings page")
    return connection


def _value(item: dict[str, Any], tag: str) -> Any:
    values = item.get(tag, {}).get("Value") or []
    if not values:
        return None
    first = values[0]
    if isinstance(first, dict):  # PN
        return first.get("Alphabetic")
    return first if len(values) == 1 else values


def _date_range(query: StudyQuery) -> str | None:
    if query.date_from is None and query.date_to is None:
        return None
    start = query.date_from.strftime("%Y%m%d") if query.date_from else ""
    end = query.date_to.strftime("%Y%m%d") if query.date_to else ""
    return start if start == end else f"{start}-{end}"


def _series_rows(raw: list[dict[str, Any]], query: StudyQuery) -> list[dict[str, Any]]:
    rows = []
    wanted = query.series_description.strip().lower()
    for item in raw:
        description = str(_value(item, "0008103E") or "")
        modality = str(_value(item, "00080060") or "")
        if wanted and wanted not in description.lower():
            continue
        if query.modality and modality.upper() != query.modality.upper():
            continue
        rows.append(
            {
                "uid": str(_value(item, "0020000E") or ""),
                "number": _value(item, "00200011"),
                "description": description,
                "modality": modality,
                "instances": int(_value(item, "00201209") or 0),
            }
        )
    rows.sort(key=lambda r: (r["number"] is None, r["number"] or 0, r["uid"]))
    return rows


def pacs_study_search(*, project: Project, query: StudyQuery) -> list[dict[str, Any]]:
    """Studies matching the query, each with its matching series, as the PACS names them
    (for leads only), and the pseudonym of the case a study was already imported as."""
    connection = connection_require(project=project)
    client = client_for(connection)
    filters: dict[str, Any] = {}
    if query.accession_number:
        filters["AccessionNumber"] = query.accession_number
    if (dates := _date_range(query)) is not None:
        filters["StudyDate"] = dates
    if query.modality:
        filters["ModalitiesInStudy"] = query.modality
    with pacs_faults(connection):
        studies = client.search_for_studies(
            search_filters=filters,
            limit=SEARCH_LIMIT,
            fields=["StudyDescription", "NumberOfStudyRelatedInstances", "ModalitiesInStudy"],
        )
        found: list[dict[str, Any]] = []
        for item in studies:
            uid = str(_value(item, "0020000D") or "")
            series = _series_rows(
                client.search_for_series(
                    study_instance_uid=uid,
                    fields=["SeriesDescription", "NumberOfSeriesRelatedInstances"],
                ),
                query,
            )
            if (query.series_description or query.modality) and not series:
                continue
            found.append(_study_row(item, uid, series))
    keys = {source_key(salt=project.pseudonym_salt, identity=row["uid"]): row for row in found}
    for key, pseudonym in Case.objects.filter(project=project, source_key__in=keys).values_list(
        "source_key", "pseudonym"
    ):
        keys[key]["imported_as"] = pseudonym
    return found


def _study_row(item: dict[str, Any], uid: str, series: list[dict[str, Any]]) -> dict[str, Any]:
    modalities = _value(item, "00080061")
    if not isinstance(modalities, list):
        modalities = [modalities] if modalities else []
    return {
        "uid": uid,
        "patient_name": str(_value(item, "00100010") or ""),
        "patient_id": str(_value(item, "00100020") or ""),
        "patient_birth_date": str(_value(item, "00100030") or ""),
        "study_date": str(_value(item, "00080020") or ""),
        "accession_number": str(_value(item, "00080050") or ""),
        "description": str(_value(item, "00081030") or ""),
        "modalities": modalities
        if isinstance(modalities, list)
        else [m for m in [modalities] if m],
        "instances": int(_value(item, "00201208") or 0),
        "series": series,
        "imported_as": None,
    }


def pacs_imports_list(*, project: Project) -> QuerySet[PacsImport]:
    return PacsImport.objects.filter(project=project).order_by("-id")


def pacs_import_get(*, project: Project, import_id: int) -> PacsImport | None:
    return PacsImport.objects.filter(project=project, pk=import_id).first()
