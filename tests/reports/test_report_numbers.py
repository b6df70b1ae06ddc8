"""The report's numbers equal an independent computation on a fixture: numpy for means, SDs,
Dice, IoU and Bland–Altman, pingouin for the ICCs, written here from what the fixture stored."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin
import pytest
from django.conf import settings

from reports.models import ReportStatus
from reports.services import report_request, report_run
from tests.reports.builders import LEVELS, Study, study_create

pytestmark = pytest.mark.django_db

Key = tuple[str, str, str, str]


def _csv(text: str) -> dict[Key, tuple[str, str]]:
    rows = csv.DictReader(io.StringIO(text))
    return {(r["table"], r["row"], r["column"], r["statistic"]): (r["value"], r["n"]) for r in rows}


def _run(project, lead, split: str = "test") -> tuple[str, dict[Key, tuple[str, str]]]:
    job = report_request(project=project, requested_by=lead, split=split)
    done = report_run(job_id=job.pk)
    assert done is not None
    assert done.status == ReportStatus.SUCCEEDED, done.reason
    html = (Path(settings.DATA_DIR) / done.html_path).read_text()
    return html, _csv((Path(settings.DATA_DIR) / done.csv_path).read_text())


def _num(table: dict[Key, tuple[str, str]], key: Key) -> float:
    assert key in table, f"{key} missing from the CSV"
    return float(table[key][0])


def _mask(shape: tuple[int, int], rect: tuple[int, int, int, int] | None) -> np.ndarray:
    m = np.zeros(shape, dtype=bool)
    if rect is not None:
        x0, y0, x1, y1 = rect
        m[y0:y1, x0:x1] = True  # pixel centres inside a rectangle with corners on pixel edges
    return m


def _pingouin(columns: list[list[float]]) -> pd.DataFrame:
    data = np.column_stack(columns)
    data = data[np.isfinite(data).all(axis=1)]
    long = pd.DataFrame(
        [(i, j, data[i, j]) for i in range(data.shape[0]) for j in range(data.shape[1])],
        columns=["case", "rater", "value"],
    )
    return pingouin.intraclass_corr(
        long, targets="case", raters="rater", ratings="value"
    ).set_index("Type")


@pytest.fixture
def study(project, cast) -> Study:
    return study_create(
        project=project,
        annotator=cast["annotator"],
        reader=cast["reader"],
        reviewer=cast["reviewer"],
        cases=24,
    )


def test_table1_dice_and_iou_equal_numpy_on_the_masks(project, cast, study) -> None:
    _, table = _run(project, cast["lead"])
    for split in ("train", "tune", "test"):
        picked = [i for i, s in enumerate(study.splits) if s == split]
        for view, label in (("sagittal", "cord"), ("sagittal", "canal"), ("axial", "cord")):
            dices, ious = [], []
            for i in picked:
                gold, model = study.rects[i][(view, label)]
                a, b = _mask(study.image_shape, gold), _mask(study.image_shape, model)
                dices.append(200.0 * np.sum(a & b) / (a.sum() + b.sum()))
                ious.append(100.0 * np.sum(a & b) / np.sum(a | b))
            row = f"{view} {label}"
            for metric, x in (("dice_percent", dices), ("iou_percent", ious)):
                key = (f"table1_{metric}", row, split)
                assert _num(table, (*key, "mean")) == pytest.approx(np.mean(x), abs=1e-9)
                assert _num(table, (*key, "sd")) == pytest.approx(np.std(x, ddof=1), abs=1e-9)
                assert table[(*key, "mean")][1] == str(len(x))


def test_table2_means_and_three_group_icc_equal_pingouin(project, cast, study) -> None:
    html, table = _run(project, cast["lead"])
    test = [i for i, s in enumerate(study.splits) if s == "test"]
    for measure, by_group in study.values.items():
        cols = {g: [v[i] for i in test] for g, v in by_group.items()}
        for group, x in cols.items():
            finite = np.asarray([v for v in x if math.isfinite(v)])
            key = ("table2", measure, group)
            assert _num(table, (*key, "mean")) == pytest.approx(finite.mean(), abs=1e-12)
            assert _num(table, (*key, "sd")) == pytest.approx(finite.std(ddof=1), abs=1e-12)
        expected = _pingouin([cols["readers"], cols["model"], cols["gold"]]).loc["ICC(A,1)"]
        key = ("table2", measure, "readers+model+gold")
        assert _num(table, (*key, "icc2_1")) == pytest.approx(expected["ICC"], abs=1e-6)
        assert _num(table, (*key, "p_value")) == pytest.approx(expected["pval"], abs=1e-9)
        low, high = expected["CI95"]
        assert _num(table, (*key, "icc2_1_ci_low")) == pytest.approx(low, abs=0.005)
        assert _num(table, (*key, "icc2_1_ci_high")) == pytest.approx(high, abs=0.005)
    # The reader has no TA on every 5th case: fewer complete cases for TA than for CR.
    assert table[("table2", "ta", "readers+model+gold", "icc2_1")][1] < str(len(test))
    readable = re.sub(r'data:[^"]*', "", html)  # base64 downloads hold any letters
    assert not re.search(r"\bnan\b", readable, re.IGNORECASE)


def test_table3_each_group_against_gold_equals_pingouin_and_numpy(project, cast, study) -> None:
    _, table = _run(project, cast["lead"])
    test = [i for i, s in enumerate(study.splits) if s == "test"]
    for measure, by_group in study.values.items():
        gold = np.asarray([by_group["gold"][i] for i in test])
        for group in ("annotators", "readers", "model"):
            x = np.asarray([by_group[group][i] for i in test])
            icc = _pingouin([list(x), list(gold)])
            key = ("table3", measure, group)
            assert _num(table, (*key, "icc2_1")) == pytest.approx(
                icc.loc["ICC(A,1)", "ICC"], abs=1e-6
            )
            assert _num(table, (*key, "icc3_1")) == pytest.approx(
                icc.loc["ICC(C,1)", "ICC"], abs=1e-6
            )
            ok = np.isfinite(x) & np.isfinite(gold)
            diff = x[ok] - gold[ok]
            bias, sd = diff.mean(), diff.std(ddof=1)
            assert _num(table, (*key, "ba_bias")) == pytest.approx(bias, abs=1e-12)
            assert _num(table, (*key, "ba_loa_low")) == pytest.approx(bias - 1.96 * sd, abs=1e-12)
            assert _num(table, (*key, "ba_loa_high")) == pytest.approx(bias + 1.96 * sd, abs=1e-12)


def test_table4_per_level_means_and_reference_marks(project, cast, study) -> None:
    _, table = _run(project, cast["lead"])
    ranges = {"sas_area": (102.85, 358.12), "cord_area": (53.71, 110.32)}
    for level in LEVELS:
        for metric, (low, high) in ranges.items():
            x = np.asarray(study.levels[(level, metric)])
            mean = _num(table, ("table4", level, metric, "mean"))
            assert mean == pytest.approx(x.mean(), abs=1e-9)
            assert _num(table, ("table4", level, metric, "sd")) == pytest.approx(
                x.std(ddof=1), abs=1e-9
            )
            flag = table[("table4", level, metric, "reference")][0]
            assert flag == ("inside" if low <= x.mean() <= high else "outside")


def test_the_levels_may_come_from_another_reads_labelme_flags(project, cast) -> None:
    """A composed gold keeps no labelme flags: the annotator's imported ones tag the slices."""
    study = study_create(
        project=project,
        annotator=cast["annotator"],
        reader=cast["reader"],
        reviewer=cast["reviewer"],
        cases=6,
        flags_on="annotators",
    )
    _, table = _run(project, cast["lead"])
    x = np.asarray(study.levels[("C3/4", "cord_area")])
    assert _num(table, ("table4", "C3/4", "cord_area", "mean")) == pytest.approx(x.mean())
