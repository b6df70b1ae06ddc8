"""A study in bulk for the report's tests and benchmark: gold cases with an annotator, an
independent reader, a model and a gold read each, their stored measurement results, and
rectangles for Dice (corners on pixel edges, so the expected masks are array slices).

`study_create` returns what it stored as plain numbers, for the independent computation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth.models import User

from annotation.models import (
    Case,
    GoldSignature,
    Image,
    Project,
    Read,
    ReadSubmission,
    Revision,
    Series,
)
from dashboards.services.rebuild import agreement_rebuild
from inference.models import ModelVersion, PrelabelJob
from measurements.models import MeasurementResult

LEVELS = ("C2/3", "C3/4", "C4/5", "C5/6", "C6/7")
NARROWEST = "C4/5"
_counter = itertools.count(1)

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (pixel edges)


@dataclass
class Study:
    """What was stored: per case and group, the report's values (NaN: none stored)."""

    splits: list[str] = field(default_factory=list)
    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # measure->group
    # per case: {(view, structure): (gold rect, model rect or None)}
    rects: list[dict[tuple[str, str], tuple[Rect, Rect | None]]] = field(default_factory=list)
    levels: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (level, metric)
    image_shape: tuple[int, int] = (64, 48)


def _rect_shape(label: str, r: Rect) -> dict[str, object]:
    x0, y0, x1, y1 = r
    return {
        "label": label,
        "shape_type": "polygon",
        "points": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
    }


def _rect(rng: np.random.Generator, shape: tuple[int, int]) -> Rect:
    rows, cols = shape
    x0, y0 = int(rng.integers(2, cols // 3)), int(rng.integers(2, rows // 3))
    return x0, y0, x0 + int(rng.integers(6, cols // 2)), y0 + int(rng.integers(6, rows // 2))


def _jitter(rng: np.random.Generator, r: Rect) -> Rect:
    return tuple(int(v + rng.integers(-2, 3)) for v in r)  # type: ignore[return-value]


def _series(case: Case, orientation: str, number: int, shape: tuple[int, int]) -> Series:
    return Series(
        case=case,
        uid=f"2.25.9{case.pk}.{number}",
        number=number,
        description=f"{orientation} T2",
        orientation=orientation,
        source="dicom",
        rows=shape[0],
        columns=shape[1],
        pixel_spacing_row=0.5,
        pixel_spacing_col=0.5,
        dtype="uint16",
        window_center=1000.0,
        window_width=2000.0,
    )


def _images(series: list[Series]) -> list[Image]:
    rows: list[Image] = []
    for s in series:
        count = 1 if s.orientation == "sagittal" else len(LEVELS)
        rows.extend(
            Image(
                series=s,
                index=i,
                position=float(i),
                uid=f"{s.uid}.{i}",
                pixel_path="none",
                sha256="0" * 64,
                min_value=0.0,
                max_value=1.0,
            )
            for i in range(count)
        )
    return Image.objects.bulk_create(rows)


def _values(rng: np.random.Generator, truth: dict[str, float], sd: float) -> dict[str, float]:
    scale = {"mcc": 0.03, "mscc": 0.03, "cr": 0.03, "ta": 4.0}
    return {k: float(v + rng.normal(0, scale[k] * sd)) for k, v in truth.items()}


Result = tuple[int, int, str, dict[str, object]]  # (revision index, image id, view, values)


@dataclass
class _CaseImages:
    sagittal: Image
    axial: list[Image]

    @property
    def narrow(self) -> Image:
        return self.axial[LEVELS.index(NARROWEST)]


def _shapes(
    images: _CaseImages, chosen: dict[tuple[str, str], Rect]
) -> dict[str, list[dict[str, object]]]:
    shapes = {
        str(images.sagittal.pk): [
            _rect_shape(label, chosen[("sagittal", label)])
            for label in ("cord", "canal")
            if ("sagittal", label) in chosen
        ]
    }
    if ("axial", "cord") in chosen:
        shapes[str(images.narrow.pk)] = [_rect_shape("cord", chosen[("axial", "cord")])]
    return shapes


def _gold_levels(
    rng: np.random.Generator, study: Study, images: _CaseImages, ax: dict[str, float], rev: int
) -> list[Result]:
    out: list[Result] = []
    for img, lvl in zip(images.axial, LEVELS, strict=True):
        level_values = _level_values(rng, lvl)
        if img.pk == images.narrow.pk:
            level_values.update(ax)
            level_values["cord_sas_ratio"] = ax["ta"] / level_values["sas_area"]
        for metric, key in _LEVEL_KEYS.items():
            study.levels.setdefault((lvl, metric), []).append(float(level_values[key]))
        out.append((rev, img.pk, "axial", dict(level_values)))
    return out


def _case(
    rng: np.random.Generator,
    study: Study,
    *,
    index: int,
    images: _CaseImages,
    reads: list[Read],
    missing_every: int,
    revisions: list[Revision],
    flags_on: str,
) -> list[Result]:
    truth = {
        "mcc": float(rng.uniform(0.1, 0.4)),
        "mscc": float(rng.uniform(0.05, 0.35)),
        "cr": float(rng.uniform(0.3, 0.6)),
        "ta": float(rng.uniform(45, 90)),
    }
    shape = study.image_shape
    rects = {k: _rect(rng, shape) for k in (("sagittal", "cord"), ("sagittal", "canal"))}
    rects[("axial", "cord")] = _rect(rng, shape)
    model_rects = {k: _jitter(rng, r) for k, r in rects.items()}
    if index % 7 == 3:  # the model missed the axial cord on this case: Dice 0
        model_rects.pop(("axial", "cord"))
    study.rects.append({k: (r, model_rects.get(k)) for k, r in rects.items()})
    results: list[Result] = []
    for gi, (read, group) in enumerate(zip(reads, GROUP_ORDER, strict=True)):
        v = truth if group == "gold" else _values(rng, truth, 1.0 + gi)
        if group == "readers" and index % missing_every == 0:
            v = {k: x for k, x in v.items() if k != "ta"}
        for m, per_group in study.values.items():
            per_group[group].append(v.get(m, float("nan")))
        chosen = {"gold": rects, "model": model_rects}.get(group, {})
        meta: dict[str, object] = {}
        if group == flags_on:
            meta = {
                str(img.pk): {"flags": {lvl: True}, "extra": {}}
                for img, lvl in zip(images.axial, LEVELS, strict=True)
            }
        shapes = _shapes(images, chosen) if chosen else {}
        revisions.append(
            Revision(
                read=read,
                number=1,
                author=read.author,
                shapes=shapes,
                image_meta=meta,
                source="save",
                shape_count=sum(len(x) for x in shapes.values()),
            )
        )
        rev = len(revisions) - 1
        sag = {"mcc": v["mcc"], "mscc": v["mscc"], "d_i_level": NARROWEST}
        results.append((rev, images.sagittal.pk, "sagittal", dict(sag)))
        ax = {k: v[k] for k in ("cr", "ta") if k in v}
        if group == "gold":
            results.extend(_gold_levels(rng, study, images, ax, rev))
        else:
            results.append((rev, images.narrow.pk, "axial", dict(ax)))
    return results


GROUP_ORDER = ("gold", "annotators", "readers", "model")


def study_create(
    *,
    project: Project,
    annotator: User,
    reader: User,
    reviewer: User,
    cases: int,
    seed: int = 7,
    splits: tuple[str, ...] = ("train", "tune", "test", "test"),
    shape: tuple[int, int] = (64, 48),
    missing_every: int = 5,
    rebuild: bool = True,
    flags_on: str = "gold",
) -> Study:
    """`cases` gold cases. Every `missing_every`-th case the reader has no TA (missing
    measurement); model Dice rectangles are the gold ones jittered by up to 2 pixels.
    `flags_on` names the read ("gold" or "annotators") whose labelme image flags tag the
    axial slices with their disc level. With `rebuild`, the dashboards' agreement rows are
    computed from scratch at the end (what their subscribers keep up to date as reads are
    submitted and gold signed)."""
    rng = np.random.default_rng(seed)
    study = Study(image_shape=shape)
    tag = next(_counter)
    made = Case.objects.bulk_create(
        Case(
            project=project,
            pseudonym=f"R{tag}-{i}",
            source_key=f"r{tag}-{i}",
            state="gold",
            split=splits[i % len(splits)],
        )
        for i in range(cases)
    )
    series = Series.objects.bulk_create(
        _series(c, o, n, shape) for c in made for n, o in ((1, "sagittal"), (2, "axial"))
    )
    by_case: dict[int, list[Image]] = {}
    for image in _images(series):
        by_case.setdefault(image.series.case_id, []).append(image)
    authors = {"gold": None, "annotators": annotator, "readers": reader, "model": None}
    kinds = {"gold": "gold", "annotators": "human", "readers": "human", "model": "model"}
    reads = Read.objects.bulk_create(
        Read(case=c, kind=kinds[g], author=authors[g], name="model v1" if g == "model" else "")
        for c in made
        for g in GROUP_ORDER
    )
    study.values = {m: {g: [] for g in GROUP_ORDER} for m in ("mcc", "mscc", "cr", "ta")}
    revisions: list[Revision] = []
    results: list[Result] = []
    for ci, case in enumerate(made):
        study.splits.append(case.split)
        sag, *axial = by_case[case.pk]
        results += _case(
            rng,
            study,
            index=ci,
            images=_CaseImages(sagittal=sag, axial=axial),
            reads=reads[ci * 4 : ci * 4 + 4],
            missing_every=missing_every,
            revisions=revisions,
            flags_on=flags_on,
        )
    saved = Revision.objects.bulk_create(revisions)
    for read, revision in zip(reads, saved, strict=True):
        read.head = revision
        read.revision_count = 1
    Read.objects.bulk_update(reads, ["head", "revision_count"])
    MeasurementResult.objects.bulk_create(
        MeasurementResult(
            revision=saved[ri], image_id=image_id, view=view, values=vals, algorithm_version="1"
        )
        for ri, image_id, view, vals in results
    )
    _hand_in(reads, saved, reviewer=reviewer, tag=tag)
    if rebuild:
        agreement_rebuild(project_id=project.pk)
    return study


def _hand_in(reads: list[Read], heads: list[Revision], *, reviewer: User, tag: int) -> None:
    """Submissions of the human reads, the gold signatures, and the pre-label jobs that
    name the model version of the model reads: what the dashboards' pairs are made of."""
    version = ModelVersion.objects.create(
        task="sagittal", name=f"report-model-{tag}", file="none.onnx", sha256=f"{tag:064x}"
    )
    ReadSubmission.objects.bulk_create(
        ReadSubmission(read=r, revision=h, submitted_by=r.author)
        for r, h in zip(reads, heads, strict=True)
        if r.kind == "human" and r.author is not None
    )
    GoldSignature.objects.bulk_create(
        GoldSignature(read=r, revision=h, signed_by=reviewer)
        for r, h in zip(reads, heads, strict=True)
        if r.kind == "gold"
    )
    jobs = PrelabelJob.objects.bulk_create(
        PrelabelJob(case_id=r.case_id, read=r, status="succeeded")
        for r in reads
        if r.kind == "model"
    )
    PrelabelJob.model_versions.through.objects.bulk_create(
        PrelabelJob.model_versions.through(prelabeljob_id=j.pk, modelversion_id=version.pk)
        for j in jobs
    )


_LEVEL_KEYS = {
    "cord_area": "ta",
    "sas_area": "sas_area",
    "cord_sas_ratio": "cord_sas_ratio",
    "cord_transverse": "transverse",
    "cord_ap": "ap",
    "sas_transverse": "sas_transverse",
    "sas_ap": "sas_ap",
}


def _level_values(rng: np.random.Generator, level: str) -> dict[str, float]:
    # C2/3 runs wide, so its SAS area sits above the healthy range now and then.
    wide = 1.6 if level == "C2/3" else 1.0
    ta, sas = float(rng.uniform(55, 100)), float(rng.uniform(150, 300) * wide)
    return {
        "ta": ta,
        "sas_area": sas,
        "cord_sas_ratio": ta / sas,
        "transverse": float(rng.uniform(10, 15)),
        "ap": float(rng.uniform(6, 9)),
        "sas_transverse": float(rng.uniform(16, 24)),
        "sas_ap": float(rng.uniform(9, 15)),
        "cr": float(rng.uniform(0.4, 0.6)),
    }
