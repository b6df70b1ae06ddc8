"""The demo's study report fills its per-level table from the anatomy: the gold reads carry
the shipped model's (corrected) sagittal vertebral corners, some left out, and the phantom
cases have axial slices at the disc levels; no image flag is set anywhere. Each level the
corners give a slice must be the level the phantom drew that slice at."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from annotation.models import Image, Project
from fixtures.demo import DEMO_PHANTOMS
from fixtures.phantom import make_phantom
from inference.management.commands.load_demo import DEMO_SLUG
from reports.references import REPORT_LEVELS
from reports.selectors import report_data
from reports.tables import Summary, level_table

pytestmark = pytest.mark.django_db(transaction=True)


def _run(command: str, *args: str, **options: Any) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, **options)
    return out.getvalue()


def _phantom_levels() -> dict[tuple[float, float, float], str]:
    """Every demo phantom's axial slice position (LPS, rounded) → the disc it was drawn at."""
    out: dict[tuple[float, float, float], str] = {}
    for spec in DEMO_PHANTOMS:
        phantom = make_phantom(spec)
        for name, position in zip(
            phantom.axial_truth.level_names, phantom.axial.slice_positions, strict=True
        ):
            key = (round(position[0], 2), round(position[1], 2), round(position[2], 2))
            out[key] = name.replace("/C", "/")
    return out


def test_the_demo_report_fills_table4_from_the_sagittal_corners(settings: Any) -> None:
    settings.PRELABEL_ON_IMPORT = True
    _run("load_demo", "--real", "sct_testing_t2s", phantoms=len(DEMO_PHANTOMS))
    call_command("worker", batch=True, interval=0)
    _run("demo_campaign")
    project = Project.objects.get(slug=DEMO_SLUG)
    data = report_data(project=project)
    assert data.gold_cases
    assert all(not case.image_flags for case in data.gold_cases)
    truth = _phantom_levels()
    placed = {i: lvl for case in data.gold_cases for i, lvl in case.levels.items()}
    assert placed, [case.level_notes for case in data.gold_cases]
    positions = dict(Image.objects.filter(pk__in=placed).values_list("id", "image_position"))
    for image_id, lvl in placed.items():
        x, y, z = positions[image_id]
        assert truth[(round(x, 2), round(y, 2), round(z, 2))] == lvl.level, (image_id, lvl)
        assert lvl.source == "corners"
    table = level_table(data)
    filled = [
        level for level in REPORT_LEVELS if isinstance(table[level]["cord_area"].summary, Summary)
    ]
    assert len(filled) >= 2, {level: table[level]["cord_area"] for level in REPORT_LEVELS}
    for level in filled:
        assert table[level]["cord_area"].from_corners >= 2
        assert table[level]["cord_area"].from_flags == 0
