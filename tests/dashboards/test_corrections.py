"""Corrections of the model's pre-label: computed right on constructed reads (Dice of two
shifted squares, corner displacement in mm), recorded once per (read, revision) through the
real task backend when a person submits, and summarised as the worst cases."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.core.management import call_command

from annotation.models import CaseState, Project, Revision
from annotation.services.submit import read_submit
from dashboards.selectors.corrections import corrections_summary
from dashboards.services.corrections import correction_record
from measurements.models import Correction
from tests.annotation.review_helpers import CORNERS, Review, make_review
from tests.factories import make_case

pytestmark = pytest.mark.django_db(transaction=True)


def _head(read) -> int:
    return Revision.objects.filter(read=read).order_by("-number").values_list("pk", flat=True)[0]


def _reviewed_case(project: Project, cast, **fields) -> Review:
    """make_review's reads, with the model's pre-label made first (as pre-labelling does)."""
    review = make_review(case=make_case(project=project), cast=cast, **fields)
    first = Revision.objects.order_by("created_at").values_list("created_at", flat=True)[0]
    Revision.objects.filter(read=review.model).update(created_at=first - timedelta(minutes=1))
    return review


def test_a_correction_measures_what_the_person_changed(project: Project, cast) -> None:
    review = _reviewed_case(project, cast)
    correction = correction_record(read_id=review.annotator.pk, revision_id=_head(review.annotator))
    assert correction is not None
    assert correction.kind == "human"
    assert correction.model_read_id == review.model.pk
    # The model's cord square (8 px wide) sits 4 px right of the annotator's: half overlaps.
    cord = correction.areas["sagittal cord"]
    assert cord["dice"] == pytest.approx(0.5, abs=0.06)
    # Canal squares are 18 px wide, 4 px apart: 14/18 overlap.
    assert correction.areas["sagittal canal"]["dice"] == pytest.approx(14 / 18, abs=0.05)
    # Every corner moved by (3, 4) px; spacing is 0.5 mm per row and 0.75 mm per column.
    expected = math.hypot(3 * 0.75, 4 * 0.5)
    assert set(correction.keypoints) == set(CORNERS)
    for value in correction.keypoints.values():
        assert value == pytest.approx(expected, abs=1e-6)
    assert correction.magnitude == pytest.approx(
        sum(1 - v["dice"] for v in correction.areas.values()) / len(correction.areas)
    )


def test_recording_twice_keeps_one_row(project: Project, cast) -> None:
    review = _reviewed_case(project, cast)
    revision = _head(review.annotator)
    first = correction_record(read_id=review.annotator.pk, revision_id=revision)
    second = correction_record(read_id=review.annotator.pk, revision_id=revision)
    assert first is not None
    assert second is not None
    assert first.pk == second.pk
    assert Correction.objects.count() == 1


def test_a_model_read_made_after_the_revision_is_not_corrected_by_it(
    project: Project, cast
) -> None:
    review = _reviewed_case(project, cast)
    annotator_head = Revision.objects.get(pk=_head(review.annotator))
    Revision.objects.filter(read=review.model).update(
        created_at=annotator_head.created_at.replace(year=annotator_head.created_at.year + 1)
    )
    assert correction_record(read_id=review.annotator.pk, revision_id=annotator_head.pk) is None


def test_a_submission_records_its_correction_through_the_task_queue(project: Project, cast) -> None:
    review = _reviewed_case(project, cast, state=CaseState.IN_ANNOTATION)
    read_submit(read=review.annotator, user=cast["annotator"], override_reason="test case")
    assert not Correction.objects.exists()  # queued, not computed in the request
    call_command("worker", batch=True, interval=0)
    correction = Correction.objects.get()
    assert correction.read_id == review.annotator.pk
    assert correction.revision_id == _head(review.annotator)


def test_the_summary_ranks_the_worst_and_averages_by_structure_and_corner(
    project: Project, cast
) -> None:
    magnitudes: list[float] = []
    for _ in range(3):
        review = _reviewed_case(project, cast)
        for read in (review.annotator, review.reader):
            found = correction_record(read_id=read.pk, revision_id=_head(read))
            assert found is not None
            assert found.magnitude is not None
            magnitudes.append(found.magnitude)
    summary = corrections_summary(project=project, limit=4)
    assert summary["n"] == 6
    assert [row["magnitude"] for row in summary["worst"]] == sorted(magnitudes, reverse=True)[:4]
    rows = list(Correction.objects.all())
    dice = [r.areas["sagittal cord"]["dice"] for r in rows]
    assert summary["by_structure"]["sagittal cord"]["mean_dice"] == pytest.approx(
        sum(dice) / len(dice)
    )
    assert summary["by_corner"]["C3_AS"]["n"] == 6


def test_the_corrections_route_is_for_leads_and_reviewers(project: Project, clients) -> None:
    url = f"/api/projects/{project.slug}/corrections"
    assert clients["lead"].get(url).status_code == 200
    assert clients["reviewer"].get(url).status_code == 200
    refused = clients["annotator"].get(url)
    assert refused.status_code == 403
    assert "leads and reviewers" in refused.json()["detail"]
    assert clients["outsider"].get(url).status_code == 404
