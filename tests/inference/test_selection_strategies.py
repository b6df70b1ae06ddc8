"""Active learning's case selection: each strategy's scores (random, uncertainty,
test-time-augmentation disagreement through a real ONNX session, measurement outliers,
likeness to corrected cases), the queue's ordering on stored scores, and the lead's choice
through the API with the scores computed by the real task backend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from annotation.models import Case, Image, Project, Read, ReadKind
from annotation.services.revisions import revision_create
from inference.models import CaseScore, JobStatus, PrelabelJob, RetrainPolicy, Strategy
from inference.runtime.contract import load_contract
from inference.runtime.sessions import create_session
from inference.runtime.tta import Augmentation, tta_disagreement
from inference.services.scores import (
    case_scores_refresh,
    random_scores,
    uncertainty_scores,
)
from measurements.models import Correction, MeasurementResult
from measurements.selection_scores import disagreement_scores, outlier_scores
from tests.annotation.workflow import bare_cases, member
from tests.factories import make_case
from tests.inference.tiny import NET, TINY_CONTRACT, register_tiny_model, tiny_model

pytestmark = pytest.mark.django_db


def _offered(project: Project) -> int:
    _user, client = member(project, "annotator")
    response = client.post(f"/api/projects/{project.slug}/queue/next")
    assert response.status_code == 200
    return int(response.json()["claim"]["case"]["id"])


@pytest.mark.parametrize(
    "strategy",
    [s for s in Strategy.values if s != Strategy.FIRST],
)
def test_next_case_offers_the_highest_score_of_the_projects_strategy(
    project: Project, strategy: str
) -> None:
    cases = bare_cases(project, 4)
    RetrainPolicy.objects.create(project=project, strategy=strategy)
    # Scores of the chosen strategy, and a decoy strategy that ranks the other way round.
    for case, score in zip(cases[1:], (0.2, 0.9, 0.5), strict=True):
        CaseScore.objects.create(case=case, strategy=strategy, score=score)
    decoy = Strategy.RANDOM if strategy != Strategy.RANDOM else Strategy.UNCERTAINTY
    CaseScore.objects.create(case=cases[0], strategy=decoy, score=5.0)
    assert _offered(project) == cases[2].pk
    assert _offered(project) == cases[3].pk
    assert _offered(project) == cases[1].pk
    assert _offered(project) == cases[0].pk  # not scored: last, in import order


def test_first_come_ignores_every_score(project: Project) -> None:
    cases = bare_cases(project, 3)
    CaseScore.objects.create(case=cases[2], strategy=Strategy.UNCERTAINTY, score=1.0)
    assert _offered(project) == cases[0].pk


def test_random_scores_are_uniform_fixed_and_differ_between_projects(project: Project) -> None:
    other = Project.objects.create(name="other", slug="other", template=project.template)
    ids = list(range(1, 2001))
    first = random_scores(project, ids)
    assert first == random_scores(project, ids)
    values = np.array([score for score, _, _ in first.values()])
    assert values.min() >= 0.0
    assert values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.03
    assert np.histogram(values, bins=4, range=(0, 1))[0].min() > 400
    second = np.array([score for score, _, _ in random_scores(other, ids).values()])
    assert abs(np.corrcoef(values, second)[0, 1]) < 0.1


def test_uncertainty_is_the_mean_over_the_slices_of_the_latest_pre_label(
    project: Project,
) -> None:
    cases = bare_cases(project, 2)
    now = timezone.now()
    PrelabelJob.objects.create(
        case=cases[0], status=JobStatus.SUCCEEDED, uncertainty={"1": 0.9}, finished_at=now
    )
    PrelabelJob.objects.create(
        case=cases[0],
        status=JobStatus.SUCCEEDED,
        uncertainty={"1": 0.2, "2": 0.4},
        finished_at=now + timedelta(seconds=1),
    )
    PrelabelJob.objects.create(case=cases[1], status=JobStatus.FAILED, uncertainty={"1": 1.0})
    scores = uncertainty_scores(project, [c.pk for c in cases])
    assert set(scores) == {cases[0].pk}
    assert scores[cases[0].pk][0] == pytest.approx(0.3)


def test_augmentations_map_back_onto_the_slice() -> None:
    rng = np.random.default_rng(0)
    mask = np.zeros((40, 30), dtype=bool)
    mask[10:20, 8:15] = True
    image = rng.random((40, 30))
    for aug in (Augmentation(dy=6), Augmentation(dx=-6), Augmentation(flip=True)):
        moved = aug.apply(image)
        assert moved.shape == image.shape
        back = aug.undo_mask(aug.apply(mask.astype(float)) > 0.5)
        assert (back == mask).all()
        x, y = aug.undo_point(*_moved_point(aug, 9.0, 12.0, 30), 30)
        assert (x, y) == pytest.approx((9.0, 12.0))


def _moved_point(aug: Augmentation, x: float, y: float, width: int) -> tuple[float, float]:
    x, y = x + aug.dx, y + aug.dy
    return ((width - 1) - x if aug.flip else x), y


def _position_dependent_model(path: Path) -> Path:
    """seg = image * ramp - 0.5: the same tissue reads differently where it sits, so a
    shifted slice gives a different mask (what test-time augmentation should detect)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    ramp = np.linspace(0.2, 3.0, NET, dtype=np.float32)[None, None, None, :]
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["image", "ramp"], ["scaled"]),
            helper.make_node("Conv", ["scaled", "w", "b"], ["seg"]),
        ],
        "ramp",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, NET, NET])],
        [helper.make_tensor_value_info("seg", TensorProto.FLOAT, ["N", 2, NET, NET])],
        initializer=[
            numpy_helper.from_array(np.repeat(ramp, NET, axis=2), "ramp"),
            numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "w"),
            numpy_helper.from_array(np.full((2,), -0.5, np.float32), "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, str(path))
    return path


def _slices() -> list[np.ndarray]:
    """A bright cord-like band on a dim background with a little noise, and a dark strip on
    the left (the slice is not symmetric, so a flip is a real change)."""
    rng = np.random.default_rng(3)
    out = []
    for _ in range(2):
        image = rng.normal(300, 20, size=(96, 80))
        image[20:80, 30:50] = 900
        image[:, :6] = 50
        out.append(image.clip(0, 4000).astype(np.uint16))
    return out


def test_tta_disagreement_is_near_zero_for_a_shift_equivariant_model(tmp_path: Path) -> None:
    contract = load_contract(TINY_CONTRACT)
    steady = create_session(tiny_model(tmp_path / "tiny.onnx"))
    moved = create_session(_position_dependent_model(tmp_path / "ramp.onnx"))
    slices = _slices()
    spacings = [(0.5, 0.5)] * len(slices)
    calm, _ = tta_disagreement(steady, contract, slices, spacings, flip_lr=True)
    nervous, parts = tta_disagreement(moved, contract, slices, spacings, flip_lr=True)
    assert 0.0 <= calm < 0.05
    assert nervous > 0.1
    assert nervous > 3 * calm
    assert set(parts) == {"cord", "canal"}


def test_tta_scores_are_stored_per_case_with_the_active_model(
    project: Project, tmp_path: Path
) -> None:
    version = register_tiny_model(tmp_path)
    case = make_case(project=project, orientations=("sagittal",), slices=2)
    assert case_scores_refresh(project=project, strategy=Strategy.TTA) == 1
    stored = CaseScore.objects.get(case=case, strategy=Strategy.TTA)
    assert 0.0 <= stored.score <= 1.0
    assert stored.model_version_id == version.pk


def _model_read_measured(case: Case, values: dict[str, float]) -> None:
    read = Read.objects.create(case=case, kind=ReadKind.MODEL)
    revision = revision_create(read=read, parent_id=None, shapes={})
    images = list(Image.objects.filter(series__case=case).select_related("series"))
    sagittal = next(i for i in images if i.series.orientation == "sagittal")
    axial = [i for i in images if i.series.orientation == "axial"]
    MeasurementResult.objects.create(
        revision=revision, image=sagittal, view="sagittal", values={"mscc": values["mscc"]}
    )
    # CR is read at the most compressed level: the smallest of the axial values.
    for image, cr in zip(axial, (values["cr"] + 0.2, values["cr"]), strict=False):
        MeasurementResult.objects.create(
            revision=revision, image=image, view="axial", values={"cr": cr}
        )


def test_outliers_score_the_robust_z_of_mscc_and_cr_against_the_cohort(
    project: Project,
) -> None:
    mscc = [10.0, 12.0, 11.0, 13.0, 60.0, 12.5]
    cr = [0.50, 0.52, 0.48, 0.51, 0.49, 0.20]
    cases = [make_case(project=project, slices=2) for _ in mscc]
    for case, m, c in zip(cases, mscc, cr, strict=True):
        _model_read_measured(case, {"mscc": m, "cr": c})
    scores = outlier_scores(project, [c.pk for c in cases])

    def z(values: list[float]) -> np.ndarray:
        x = np.array(values)
        mad = np.median(np.abs(x - np.median(x))) * 1.4826
        return np.asarray(np.abs(x - np.median(x)) / mad)

    expected = np.maximum(z(mscc), z(cr))
    assert [scores[c.pk][0] for c in cases] == pytest.approx(list(expected), rel=1e-3)
    ranked = sorted(cases, key=lambda c: -scores[c.pk][0])
    assert {ranked[0].pk, ranked[1].pk} == {cases[4].pk, cases[5].pk}


def test_disagreement_ranks_cases_like_the_most_corrected_first(project: Project) -> None:
    cases = bare_cases(project, 4)
    now = timezone.now()
    for case, uncertainty in zip(cases, (0.9, 0.1, 0.85, 0.15), strict=True):
        PrelabelJob.objects.create(
            case=case, status=JobStatus.SUCCEEDED, uncertainty={"1": uncertainty}, finished_at=now
        )
    for case, magnitude in ((cases[0], 0.8), (cases[1], 0.1)):
        model = Read.objects.create(case=case, kind=ReadKind.MODEL)
        gold = Read.objects.create(case=case, kind=ReadKind.GOLD)
        Correction.objects.create(
            project=project,
            case=case,
            model_read=model,
            model_revision_id=1,
            read=gold,
            revision_id=1,
            kind="gold",
            magnitude=magnitude,
        )
    scores = disagreement_scores(project, [cases[2].pk, cases[3].pk])
    like_bad, like_good = scores[cases[2].pk], scores[cases[3].pk]
    assert like_bad[0] > 0.6
    assert like_good[0] < 0.3
    assert like_bad[1]["neighbours"][0] == cases[0].pk


def test_disagreement_without_corrections_scores_nothing(project: Project) -> None:
    cases = bare_cases(project, 2)
    assert disagreement_scores(project, [c.pk for c in cases]) == {}


@pytest.mark.django_db(transaction=True)
def test_a_lead_chooses_the_strategy_and_the_worker_scores_the_cases(
    project: Project, clients
) -> None:
    cases = bare_cases(project, 3)
    url = f"/api/projects/{project.slug}/strategy"
    assert clients["annotator"].get(url).json()["strategy"] == Strategy.FIRST
    refused = clients["annotator"].put(url, {"strategy": "random"}, content_type="application/json")
    assert refused.status_code == 403
    bad = clients["lead"].put(url, {"strategy": "loudest"}, content_type="application/json")
    assert bad.status_code == 400
    assert "strategy" in bad.json()
    chosen = clients["lead"].put(url, {"strategy": "random"}, content_type="application/json")
    assert chosen.status_code == 200
    assert chosen.json()["strategy"] == Strategy.RANDOM
    assert chosen.json()["scored_cases"] == 0  # computed in the background
    call_command("worker", batch=True, interval=0)
    state = clients["lead"].get(url).json()
    assert state["scored_cases"] == len(cases)
    assert RetrainPolicy.objects.get(project=project).strategy == Strategy.RANDOM
