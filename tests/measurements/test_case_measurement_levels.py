"""GET /api/cases/{id}/measurements: each read's axial images carry their disc level, from an
image flag, else the read's own sagittal corners, else the gold read's corners when the
user may see the gold read (blinding). The expected levels are the phantom's own plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotation.models import Project, Read, ReadKind
from annotation.services.revisions import revision_create
from fixtures.phantom_types import PhantomSpec
from tests.measurements.phantom_cases import disc_slices, import_phantom, truth_shapes

pytestmark = pytest.mark.django_db

SPEC = PhantomSpec(seed=44, n_sagittal_slices=3, axial_shape=(96, 96), tilt_deg=-5.0)


@pytest.fixture
def setup(project: Project, cast: dict[str, User], tmp_path: Path) -> dict[str, Any]:
    """A blinded project's phantom case: the annotator drew the axial slices only (no
    sagittal corners), the gold read has everything."""
    assert project.blinded
    case, phantom = import_phantom(project, SPEC, tmp_path / "p")
    annotator = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["annotator"])
    revision_create(
        read=annotator,
        parent_id=None,
        shapes=truth_shapes(case, phantom, sagittal=False),
        author=cast["annotator"],
    )
    gold = Read.objects.create(case=case, kind=ReadKind.GOLD)
    revision_create(
        read=gold, parent_id=None, shapes=truth_shapes(case, phantom), author=cast["reviewer"]
    )
    expected = {img.pk: level for level, img in disc_slices(case, phantom).items()}
    return {"case": case, "annotator": annotator, "gold": gold, "expected": expected}


def _reads(client: Client, case_id: int) -> dict[int, dict[str, Any]]:
    response = client.get(f"/api/cases/{case_id}/measurements")
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["reads"]}


def test_the_gold_read_s_own_corners_give_its_levels(clients, setup) -> None:
    rows = _reads(clients["lead"], setup["case"].pk)
    gold = rows[setup["gold"].pk]
    assert {x["image"]: x["level"] for x in gold["levels"]} == setup["expected"]
    assert {x["origin"] for x in gold["levels"]} == {"corners"}
    assert {x["corners_read"] for x in gold["levels"]} == {setup["gold"].pk}
    assert all(0 <= x["distance_mm"] < 5 for x in gold["levels"])
    estimated = {x["level"] for x in gold["levels"] if x["estimated"]}
    assert estimated == {"C2/3", "C7/T1"}


def test_an_axial_only_read_takes_the_gold_corners_when_the_user_sees_gold(clients, setup) -> None:
    rows = _reads(clients["lead"], setup["case"].pk)
    mine = rows[setup["annotator"].pk]
    assert {x["image"]: x["level"] for x in mine["levels"]} == setup["expected"]
    assert {x["corners_read"] for x in mine["levels"]} == {setup["gold"].pk}


def test_blinded_annotator_gets_no_levels_from_a_gold_read_it_may_not_see(clients, setup) -> None:
    rows = _reads(clients["annotator"], setup["case"].pk)
    assert set(rows) == {setup["annotator"].pk}
    mine = rows[setup["annotator"].pk]
    assert mine["levels"] == []
    assert any("no vertebral corners" in n for n in mine["level_notes"])


def test_an_image_flag_wins_over_the_corners(clients, setup, cast) -> None:
    annotator: Read = setup["annotator"]
    head = annotator.head
    assert head is not None
    image = next(i for i, lvl in setup["expected"].items() if lvl == "C4/5")
    revision_create(
        read=annotator,
        parent_id=head.pk,
        shapes=head.shapes,
        author=cast["annotator"],
        image_meta={str(image): {"flags": {"C5-6": True}, "extra": {}}},
    )
    rows = _reads(clients["annotator"], setup["case"].pk)
    levels = rows[annotator.pk]["levels"]
    assert levels == [
        {
            "image": image,
            "level": "C5/6",
            "origin": "flag",
            "corners_read": None,
            "distance_mm": None,
            "estimated": False,
        }
    ]
    # The lead sees gold: the flag holds C5/6 (the corners' C5/6 image gives way) and the
    # corners name the rest.
    rows = _reads(clients["lead"], setup["case"].pk)
    found = {x["image"]: (x["level"], x["origin"]) for x in rows[annotator.pk]["levels"]}
    expected = {
        i: (lvl, "corners") for i, lvl in setup["expected"].items() if lvl not in ("C4/5", "C5/6")
    }
    assert found == {**expected, image: ("C5/6", "flag")}
