"""The area quartiles taken in SQL (percentile_cont, PostgreSQL) equal the ones the embedded
SQLite demo computes from the values in numpy, on the same stored rows."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.db.models import Q

from dashboards.models import AgreementArea
from dashboards.selectors.group_stats import QUARTILES, _quartiles_in_python, area_stats
from tests.dashboards.world import study_create

pytestmark = pytest.mark.django_db


def test_sql_and_numpy_quartiles_agree(cast: Any) -> None:
    study = study_create(seed=21, versions=1)
    for _ in range(4):
        study.gold_case(split="train")
    rows = Q(project=study.project)
    from_sql = area_stats(rows)
    stripped = copy.deepcopy(from_sql)
    for structures in stripped.values():
        for metrics in structures.values():
            for stat in metrics.values():
                for name, _ in QUARTILES:
                    stat.pop(name, None)
    keys = ("kind", "model_version_id", "structure")
    _quartiles_in_python(AgreementArea.objects.filter(rows), keys, stripped)
    checked = 0
    for group, structures in from_sql.items():
        for structure, metrics in structures.items():
            for metric, stat in metrics.items():
                for name, _ in QUARTILES:
                    got = stripped[group][structure][metric][name]
                    assert got == pytest.approx(stat[name], abs=1e-9), (group, structure, name)
                    checked += 1
    assert checked == 2 * 4 * 3 * 3  # (model, annotators) x structures x metrics x quartiles
