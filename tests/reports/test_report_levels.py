"""Table 4 fills from the anatomy: a gold read's sagittal vertebral corners give its axial
slices their disc level where no labelme image flag does (flags win), on phantoms imported
through the real DICOM ingest. The expected values are computed here: each axial slice's
level from the phantom's own plan (one slice per disc), its values from the stored results,
means and SDs with numpy."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth.models import User

from annotation.models import Case, CaseState, Image, Project, Read, ReadKind, Series, Split
from annotation.models.review import GoldSignature
from annotation.services.revisions import revision_create
from fixtures.phantom_types import Phantom, PhantomSpec
from measurements.models import MeasurementResult
from reports.models import ReportStatus
from reports.references import PER_LEVEL_METRICS, REPORT_LEVELS
from reports.selectors import report_data
from reports.services import report_request, report_run
from tests.measurements.phantom_cases import disc_slices, import_phantom, truth_shapes

pytestmark = pytest.mark.django_db

SPECS = (
    PhantomSpec(seed=41, n_sagittal_slices=3, axial_shape=(96, 96)),
    PhantomSpec(seed=42, n_sagittal_slices=3, axial_shape=(96, 96), tilt_deg=7.0),
)
STORED = {
    "cord_area": "ta",
    "sas_area": "sas_area",
    "cord_sas_ratio": "cord_sas_ratio",
    "cord_transverse": "transverse",
    "cord_ap": "ap",
    "sas_transverse": "sas_transverse",
    "sas_ap": "sas_ap",
}


@dataclass
class Imported:
    case: Case
    phantom: Phantom
    gold: Read


def _gold_case(
    project: Project, reviewer: User, spec: PhantomSpec, folder: Path, *, corners: bool = True
) -> Imported:
    """A gold case: the phantom's truth on the mid-sagittal slice (with or without its
    vertebral corners) and the cord and dural sac on every axial slice; no image flags."""
    case, phantom = import_phantom(project, spec, folder)
    shapes = truth_shapes(case, phantom, corners=corners)
    gold = Read.objects.create(case=case, kind=ReadKind.GOLD)
    head = revision_create(read=gold, parent_id=None, shapes=shapes, author=reviewer)
    GoldSignature.objects.create(read=gold, revision=head, signed_by=reviewer)
    Case.objects.filter(pk=case.pk).update(state=CaseState.GOLD, split=Split.TEST)
    gold.refresh_from_db()
    return Imported(case, phantom, gold)


def _disc_slices(imported: Imported) -> dict[str, Image]:
    return disc_slices(imported.case, imported.phantom)


def _expected(cases: list[Imported]) -> dict[tuple[str, str], list[float]]:
    values: dict[tuple[str, str], list[float]] = {}
    for c in cases:
        for level, image in _disc_slices(c).items():
            stored = MeasurementResult.objects.get(revision=c.gold.head, image=image)
            for metric, key in STORED.items():
                values.setdefault((level, metric), []).append(float(stored.values[key]))
    return values


def _csv(text: str) -> dict[tuple[str, str, str, str], tuple[str, str]]:
    rows = csv.DictReader(io.StringIO(text))
    return {(r["table"], r["row"], r["column"], r["statistic"]): (r["value"], r["n"]) for r in rows}


def _report(project: Project, lead: User) -> tuple[str, dict[tuple[str, str, str, str], Any]]:
    job = report_request(project=project, requested_by=lead, split="all")
    done = report_run(job_id=job.pk)
    assert done is not None
    assert done.status == ReportStatus.SUCCEEDED, done.reason
    html = (Path(settings.DATA_DIR) / done.html_path).read_text()
    return html, _csv((Path(settings.DATA_DIR) / done.csv_path).read_text())


@pytest.fixture
def two_cases(project: Project, cast: dict[str, User], tmp_path: Path) -> list[Imported]:
    return [
        _gold_case(project, cast["reviewer"], spec, tmp_path / f"p{spec.seed}") for spec in SPECS
    ]


def test_table4_fills_from_the_gold_reads_sagittal_corners(project, cast, two_cases) -> None:
    html, table = _report(project, cast["lead"])
    expected = _expected(two_cases)
    for level in REPORT_LEVELS:
        for metric in PER_LEVEL_METRICS:
            x = np.asarray(expected[(level, metric)])
            mean, n = table[("table4", level, metric, "mean")]
            assert float(mean) == pytest.approx(x.mean(), rel=1e-9), (level, metric)
            assert int(n) == 2
            sd, _ = table[("table4", level, metric, "sd")]
            assert float(sd) == pytest.approx(x.std(ddof=1), rel=1e-9, abs=1e-12)
            assert table[("table4", level, metric, "from_sagittal_corners")][0] == "2"
            assert table[("table4", level, metric, "from_image_flags")][0] == "0"
    table4 = html[html.index('<table id="table4"') :]
    table4 = table4[: table4.index("</table>")]
    assert "not enough data" not in table4
    assert table4.count("slices: 2 from the gold reads&#x27; sagittal corners") == len(
        REPORT_LEVELS
    )
    x = np.asarray(expected[("C4/5", "cord_area")])
    assert f"{x.mean():.2f} ± {x.std(ddof=1):.2f}" in table4


def test_each_axial_slice_takes_the_phantoms_disc_level(project, cast, two_cases) -> None:
    data = report_data(project=project)
    by_case = {c.case_id: c for c in data.gold_cases}
    for imported in two_cases:
        gold = by_case[imported.case.pk]
        found = {image: lvl.level for image, lvl in gold.levels.items()}
        assert found == {img.pk: level for level, img in _disc_slices(imported).items()}
        assert all(lvl.source == "corners" for lvl in gold.levels.values())
        assert gold.read_id == imported.gold.pk


def test_an_image_flag_wins_over_the_corners(project, cast, two_cases) -> None:
    """A flag tags case 0's C3/4 slice as C5/6: that slice counts for C5/6 (by flag), case
    0's C5/6 slice by corners is dropped (its level is flagged) and C3/4 keeps case 1 only."""
    first = two_cases[0]
    slices = _disc_slices(first)
    wrong = slices["C3/4"]
    gold = first.gold
    head = gold.head
    assert head is not None
    meta = {str(wrong.pk): {"flags": {"C5/C6": True}, "extra": {}}}
    revision_create(
        read=gold,
        parent_id=head.pk,
        shapes=head.shapes,
        author=cast["reviewer"],
        image_meta=meta,
    )
    gold.refresh_from_db()
    GoldSignature.objects.create(read=gold, revision_id=gold.head_id, signed_by=cast["reviewer"])
    _, table = _report(project, cast["lead"])
    assert table[("table4", "C3/4", "cord_area", "not_enough_data")][1] == "1"
    second = two_cases[1]
    flagged = MeasurementResult.objects.get(revision_id=gold.head_id, image=wrong).values["ta"]
    other = MeasurementResult.objects.get(
        revision_id=second.gold.head_id, image=_disc_slices(second)["C5/6"]
    ).values["ta"]
    mean = float(table[("table4", "C5/6", "cord_area", "mean")][0])
    assert mean == pytest.approx(np.mean([flagged, other]), rel=1e-9)
    assert table[("table4", "C5/6", "cord_area", "from_image_flags")][0] == "1"
    assert table[("table4", "C5/6", "cord_area", "from_sagittal_corners")][0] == "1"


def test_without_corners_or_geometry_there_are_no_automatic_levels(project, cast, tmp_path) -> None:
    no_corners = _gold_case(project, cast["reviewer"], SPECS[0], tmp_path / "a", corners=False)
    no_geometry = _gold_case(project, cast["reviewer"], SPECS[1], tmp_path / "b")
    Series.objects.filter(case=no_geometry.case, orientation="axial").update(
        row_direction=[], column_direction=[]
    )
    data = report_data(project=project)
    by_case = {c.case_id: c for c in data.gold_cases}
    first, second = by_case[no_corners.case.pk], by_case[no_geometry.case.pk]
    assert first.levels == {}
    assert any("no vertebral corners" in n for n in first.level_notes)
    assert second.levels == {}
    assert any("no orientation" in n for n in second.level_notes)
    html, table = _report(project, cast["lead"])
    assert ("table4", "C4/5", "cord_area", "not_enough_data") in table
    # The report says which gold cases got no level, and why.
    gaps = {k[2]: v[0] for k, v in table.items() if k[:2] == ("table4", "cases_without_levels")}
    assert gaps == {
        "no vertebral corners on a sagittal image with geometry": "1",
        "no axial image with geometry (the series has no orientation (direction cosines))": "1",
    }
    assert "2 gold case(s) without a disc level" in html
