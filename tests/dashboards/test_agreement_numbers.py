"""The agreement dashboard's numbers equal an independent computation on a study built
through the real services: masks rasterised here with matplotlib, HD95 by brute force over
surface pixels, radial errors and Bland-Altman in numpy, ICC by pingouin, kappa by sklearn."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pingouin
import pytest
from django.test import Client
from matplotlib.path import Path as MplPath
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

from annotation.models import GoldSignature, Image, Read, ReadKind, ReadSubmission, Revision
from inference.models import PrelabelJob
from measurements.models import MeasurementResult
from tests.dashboards.world import Study, study_create

pytestmark = pytest.mark.django_db
CORD = "cord"


def _mask(shapes: list[dict[str, Any]], label: str, rows: int, cols: int) -> np.ndarray:
    """Pixels whose centre (c + 0.5, r + 0.5) lies inside any polygon of the label."""
    yy, xx = np.mgrid[0:rows, 0:cols]
    centres = np.column_stack([xx.ravel() + 0.5, yy.ravel() + 0.5])
    out = np.zeros(rows * cols, dtype=bool)
    for shape in shapes:
        if shape["label"] == label and shape["shape_type"] == "polygon":
            out |= MplPath(np.asarray(shape["points"], dtype=float)).contains_points(centres)
    return out.reshape(rows, cols)


def _surface(mask: np.ndarray) -> np.ndarray:
    """Mask pixels with a background (or outside) pixel among their 8 neighbours."""
    padded = np.pad(mask, 1)
    inner = np.ones_like(mask)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            inner &= padded[1 + dr : 1 + dr + mask.shape[0], 1 + dc : 1 + dc + mask.shape[1]]
    surface: np.ndarray = mask & ~inner
    return surface


def _hd95(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float]) -> float:
    pa = np.argwhere(_surface(a)) * np.asarray(spacing)
    pb = np.argwhere(_surface(b)) * np.asarray(spacing)
    d = np.sqrt(((pa[:, None, :] - pb[None, :, :]) ** 2).sum(axis=2))
    return float(max(np.percentile(d.min(axis=1), 95), np.percentile(d.min(axis=0), 95)))


def _points(shapes: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    return {s["label"]: tuple(s["points"][0]) for s in shapes if s["shape_type"] == "point"}


def _expected_pairs(study: Study) -> dict[str, list[tuple[Revision, Revision]]]:
    """Group key -> (revision, gold revision) pairs, chosen here from the raw records."""
    pairs: dict[str, list[tuple[Revision, Revision]]] = defaultdict(list)
    for case in study.cases:
        signature = GoldSignature.objects.filter(read__case=case).order_by("-signed_at").first()
        assert signature is not None
        gold = signature.revision
        for job in PrelabelJob.objects.filter(case=case, read__isnull=False):
            assert job.read is not None
            assert job.read.head is not None
            for version in job.model_versions.all():
                pairs[f"model:{version.pk}"].append((job.read.head, gold))
        for read in Read.objects.filter(case=case, kind=ReadKind.HUMAN):
            handed = ReadSubmission.objects.filter(read=read).order_by("submitted_at", "id")
            if read.author == study.user("reader"):
                revision = handed.last()
                key = "readers"
            else:
                revision = handed.first()
                key = "annotators"
            assert revision is not None
            assert revision.revision is not None
            pairs[key].append((revision.revision, gold))
    return pairs


def _value(revision: Revision, key: str) -> float | None:
    for row in MeasurementResult.objects.filter(revision=revision).order_by("image_id"):
        value = row.values.get(key)
        if value is not None:
            return float(value)
    return None


def _icc(pairs: list[tuple[float, float]]) -> pd.DataFrame:
    long = pd.DataFrame(
        [(i, rater, v) for i, pair in enumerate(pairs) for rater, v in enumerate(pair)],
        columns=["case", "rater", "value"],
    )
    pingouin.options["round.column.CI95"] = None  # pingouin rounds its CIs by default
    table = pingouin.intraclass_corr(long, targets="case", raters="rater", ratings="value")
    return table.set_index("Type")


def _check_areas(group: dict[str, Any], pairs: list[tuple[Revision, Revision]]) -> None:
    sagittal = Image.objects.select_related("series")
    dices, ious, hds = [], [], []
    for revision, gold in pairs:
        key = next(
            k for k in gold.shapes if sagittal.get(pk=int(k)).series.orientation == "sagittal"
        )
        series = sagittal.get(pk=int(key)).series
        rows, cols = series.rows, series.columns
        a = _mask(revision.shapes[key], CORD, rows, cols)
        b = _mask(gold.shapes[key], CORD, rows, cols)
        dices.append(2 * (a & b).sum() / (a.sum() + b.sum()))
        ious.append((a & b).sum() / (a | b).sum())
        hds.append(_hd95(a, b, (series.pixel_spacing_row, series.pixel_spacing_col)))
    got = group["structures"]["sagittal cord"]
    assert got["dice"]["n"] == len(pairs)
    assert got["dice"]["mean"] == pytest.approx(np.mean(dices), abs=1e-9)
    assert got["dice"]["sd"] == pytest.approx(np.std(dices, ddof=1), abs=1e-9)
    assert got["iou"]["mean"] == pytest.approx(np.mean(ious), abs=1e-9)
    assert got["hd95_mm"]["mean"] == pytest.approx(np.mean(hds), abs=1e-9)
    assert got["hd95_mm"]["max"] == pytest.approx(max(hds), abs=1e-9)
    assert got["dice"]["median"] == pytest.approx(np.median(dices), abs=1e-9)
    assert got["hd95_mm"]["q3"] == pytest.approx(np.percentile(hds, 75), abs=1e-9)
    assert (
        got["dice"]["histogram"]["counts"] == np.histogram(dices, bins=10, range=(0, 1))[0].tolist()
    )


def _check_keypoints(
    group: dict[str, Any], pairs: list[tuple[Revision, Revision]], spacing: tuple[float, float]
) -> None:
    errors = []
    for revision, gold in pairs:
        a = {k: v for items in revision.shapes.values() for k, v in _points(items).items()}
        b = {k: v for items in gold.shapes.values() for k, v in _points(items).items()}
        for name in sorted(set(a) & set(b)):
            dx = (a[name][0] - b[name][0]) * spacing[1]
            dy = (a[name][1] - b[name][1]) * spacing[0]
            errors.append(math.hypot(dx, dy))
    got = group["keypoints"]
    assert got["n_points"] == len(errors) == 20 * len(pairs)
    assert got["mean_radial_error_mm"] == pytest.approx(np.mean(errors), abs=1e-9)
    per_pair = np.asarray(errors).reshape(len(pairs), 20).mean(axis=1)
    assert got["radial_error_mm"]["sd"] == pytest.approx(np.std(per_pair, ddof=1), abs=1e-9)
    assert got["within_2mm"] == pytest.approx(np.mean(np.asarray(errors) <= 2.0))
    assert got["within_4mm"] == pytest.approx(np.mean(np.asarray(errors) <= 4.0))


def _check_measurements(group: dict[str, Any], pairs: list[tuple[Revision, Revision]]) -> None:
    for key in ("mscc", "ta", "cr"):
        values = [(_value(r, key), _value(g, key)) for r, g in pairs]
        complete = [(a, b) for a, b in values if a is not None and b is not None]
        assert len(complete) >= 3, key
        got = group["measurements"][key]
        assert (got["status"], got["n"]) == ("ok", len(complete))
        table = _icc(complete)
        assert got["icc2_1"]["value"] == pytest.approx(table.loc["ICC(A,1)", "ICC"], abs=1e-6)
        assert got["icc3_1"]["value"] == pytest.approx(table.loc["ICC(C,1)", "ICC"], abs=1e-6)
        low, high = table.loc["ICC(A,1)", "CI95"]
        assert (got["icc2_1"]["ci_low"], got["icc2_1"]["ci_high"]) == pytest.approx(
            (low, high),
            abs=0.01,  # pingouin rounds its CIs to 2 decimals
        )
        diff = np.asarray([a - b for a, b in complete])
        ba = got["bland_altman"]
        assert ba["bias"] == pytest.approx(diff.mean(), abs=1e-12)
        assert ba["loa_low"] == pytest.approx(diff.mean() - 1.96 * diff.std(ddof=1), abs=1e-12)
        assert ba["loa_high"] == pytest.approx(diff.mean() + 1.96 * diff.std(ddof=1), abs=1e-12)
        assert len(ba["points"]) == len(complete)


def test_model_and_human_groups_equal_an_independent_computation(cast: Any) -> None:
    study = study_create(seed=11, versions=2)
    for k in range(8):
        study.gold_case(split="test" if k % 2 else "train", overlap=k in (1, 4), model=k % 2)
    lead = Client()
    lead.force_login(study.user("lead"))
    answer = lead.get(f"/api/projects/{study.project.slug}/dashboard/agreement")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    groups = {g["key"]: g for g in body["groups"]}
    expected = _expected_pairs(study)
    assert set(expected) == {k for k, g in groups.items() if g["n_pairs"]}
    series = Image.objects.filter(series__case=study.cases[0]).first()
    assert series is not None
    spacing = (series.series.pixel_spacing_row, series.series.pixel_spacing_col)
    for key, pairs in expected.items():
        assert groups[key]["n_pairs"] == len(pairs), key
        _check_areas(groups[key], pairs)
        _check_keypoints(groups[key], pairs, spacing)
    for key in (
        "model:" + str(study.versions[0].pk),
        "model:" + str(study.versions[1].pk),
        "annotators",
    ):
        _check_measurements(groups[key], expected[key])
    # Kappa of the annotators' categorical fields against gold: sklearn on the same pairs.
    field_pairs = [
        (r.case_fields["image_quality"], g.case_fields["image_quality"])
        for r, g in expected["annotators"]
    ]
    want = cohen_kappa_score([a for a, _ in field_pairs], [b for _, b in field_pairs])
    assert groups["annotators"]["kappa"]["image_quality"]["kappa"] == pytest.approx(want)
    # The trend lists the versions oldest first with the same group means.
    assert [t["model_version"] for t in body["trend"]] == [v.pk for v in study.versions]
    for point in body["trend"]:
        group = groups[f"model:{point['model_version']}"]
        assert (
            point["dice"]["sagittal cord"] == group["structures"]["sagittal cord"]["dice"]["mean"]
        )


def test_inter_reader_rows_pair_the_two_annotators_of_overlap_cases(cast: Any) -> None:
    study = study_create(seed=5, versions=1)
    for _ in range(3):
        case = study.new_case(split="train", overlap=True)
        study.annotated(case, annotators=2)
    lead = Client()
    lead.force_login(study.user("lead"))
    body = lead.get(f"/api/projects/{study.project.slug}/dashboard/agreement").json()
    inter = body["inter_reader"]
    assert (inter["n_cases"], inter["n_pairs"]) == (3, 3)
    pairs = []
    for case in study.cases:
        firsts = [
            ReadSubmission.objects.filter(read__case=case, read__author=study.user("annotator", k))
            .earliest("submitted_at")
            .revision
            for k in (0, 1)
        ]
        first, second = firsts
        assert first is not None
        assert second is not None
        pairs.append((first, second))
    _check_areas(inter, pairs)
    mscc = [(_value(a, "mscc"), _value(b, "mscc")) for a, b in pairs]
    table = _icc([(a, b) for a, b in mscc if a is not None and b is not None])
    assert inter["measurements"]["mscc"]["icc3_1"]["value"] == pytest.approx(
        table.loc["ICC(C,1)", "ICC"], abs=1e-6
    )
    # No gold yet: the groups against gold say so instead of showing numbers.
    assert body["n_gold"] == 0
    assert body["empty"]["message"].startswith("not enough data (n = 0): no gold yet")
