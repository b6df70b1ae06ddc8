"""A PACS study with known identifiers is imported through the API; none of them reaches
an annotator through any route the annotator can read, nor the logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from annotation.models import Case, Image
from pacs.models import ImportStatus, PacsImport
from pacs.services.imports import pacs_import_run
from tests.pacs import orthanc
from tests.pacs.conftest import Pacs
from tests.pacs.studies import REAL_IDENTIFIERS

FILLABLE = {"slug", "case_id", "image_id", "series_id"}


def _needles(pacs: Pacs) -> list[str]:
    name = REAL_IDENTIFIERS["PatientName"]
    birth = REAL_IDENTIFIERS["PatientBirthDate"]
    return [
        *name.split("^"),
        REAL_IDENTIFIERS["PatientID"],
        birth,
        f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
        REAL_IDENTIFIERS["InstitutionName"],
        REAL_IDENTIFIERS["AccessionNumber"],
        REAL_IDENTIFIERS["ReferringPhysicianName"].split("^")[0],
        pacs.loaded.real_uid,  # the original StudyInstanceUID is replaced too
        *(part for n in pacs.loaded.phantom_names for part in n.split("^")),
    ]


def _get_routes() -> list[tuple[str, set[str]]]:
    """(URL name, its parameters) of every named route (GET is tried on each)."""
    found: list[tuple[str, set[str]]] = []

    def walk(patterns: list[Any]) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace != "admin":
                    walk(entry.url_patterns)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((entry.name, set(entry.pattern.converters)))

    walk(get_resolver().url_patterns)
    return found


@pytest.mark.django_db
def test_no_identifier_of_an_imported_pacs_study_reaches_annotators_or_logs(
    project, cast, clients, pacs_server: Pacs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lead: Client = clients["lead"]
    slug = project.slug
    reply = lead.put(
        f"/api/projects/{slug}/pacs/connection",
        data=json.dumps(
            {"base_url": pacs_server.url, "username": orthanc.USER, "password": orthanc.PASSWORD}
        ),
        content_type="application/json",
    )
    assert reply.status_code == 200, reply.content
    search = lead.get(
        f"/api/projects/{slug}/pacs/studies",
        {"accession_number": REAL_IDENTIFIERS["AccessionNumber"]},
    )
    assert search.status_code == 200, search.content
    assert search.json()["studies"][0]["patient_name"] == REAL_IDENTIFIERS["PatientName"]
    studies = [pacs_server.loaded.real_uid, pacs_server.loaded.phantom_uids[0]]
    reply = lead.post(
        f"/api/projects/{slug}/pacs/imports",
        data=json.dumps({"studies": studies}),
        content_type="application/json",
    )
    assert reply.status_code == 202, reply.content
    job = pacs_import_run(import_id=reply.json()["id"])
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert PacsImport.objects.get(pk=job.pk).summary["images"] > 0

    annotator: Client = clients["annotator"]
    needles = _needles(pacs_server)
    read = 0
    for case in Case.objects.filter(project=project):
        image = Image.objects.filter(series__case=case).select_related("series").first()
        assert image is not None
        values = {
            "slug": slug,
            "case_id": case.pk,
            "image_id": image.pk,
            "series_id": image.series_id,
        }
        for name, params in _get_routes():
            if not params <= FILLABLE:
                continue
            url = reverse(name, kwargs={p: values[p] for p in params})
            answer = annotator.get(url)
            if answer.status_code != 200:
                continue
            read += 1
            body = answer.content.decode("utf-8", errors="replace")
            for needle in needles:
                assert needle not in body, f"{needle!r} in {url}"
    assert read >= 10  # the case list, case, reads, pixels, pages... were read
    for url in (f"/api/projects/{slug}/pacs/imports", f"/api/projects/{slug}/pacs/studies"):
        assert annotator.get(url).status_code == 403
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for needle in needles:
        assert needle not in logged
