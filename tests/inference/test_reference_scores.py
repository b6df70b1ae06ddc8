"""Scores on the real references (inference.training.references) against an independent
computation on a synthetic case: a one-convolution ONNX model (run by ONNX Runtime through the
product's prediction path) whose masks and heatmaps are the min-max normalised image itself,
on a Gaussian blob, so where it puts its mask and its keypoints is known without running it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fixtures.real_references import Reference
from inference.runtime.contract import load_contract
from inference.runtime.predict import predict_slices
from inference.runtime.sessions import create_session
from inference.training.references import (
    card_section,
    render_reference_picture,
    replace_card_section,
    score_product_keypoints,
    score_references,
    trained_volumes,
)

NET = 64
ROWS, COLS = 80, 64
SPACING = (0.8, 1.0)  # row mm, column mm: anisotropic, so mm conversion is checked
CENTRE = (30.5, 40.5)  # blob centre, labelme (x, y): the centre of pixel (row 40, column 30)
SIGMA = 6.0
# Channel names: not vertebral corners, so the product's level check (which withholds the
# corners of an impossible vertebra, and four coincident corners are one) leaves them alone.
CORNERS = ("K1", "K2", "K3", "K4")
CONTRACT: dict[str, Any] = {
    "task": "sagittal",
    "input": {"name": "image", "size": [NET, NET]},
    "normalisation": {"type": "minmax"},
    "preprocessing": {"roi": "foreground_box", "foreground_threshold": 20.0},
    "outputs": {
        "segmentation": {"name": "seg", "labels": ["cord", "canal"]},
        "heatmap": {"name": "heatmaps", "keypoints": list(CORNERS)},
    },
    "postprocessing": {"extent": "full", "min_component_px": 1},
}


def _model(path: Path) -> Path:
    """seg = image - 0.5 (after the sigmoid: where the normalised image is above one half);
    every heatmap = the normalised image (peak 1 at the blob's centre)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "ws"),
        numpy_helper.from_array(np.full((2,), -0.5, np.float32), "bs"),
        numpy_helper.from_array(np.ones((len(CORNERS), 1, 1, 1), np.float32), "wh"),
        numpy_helper.from_array(np.zeros((len(CORNERS),), np.float32), "bh"),
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "ws", "bs"], ["seg"]),
            helper.make_node("Conv", ["image", "wh", "bh"], ["heatmaps"]),
        ],
        "blob",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, NET, NET])],
        [
            helper.make_tensor_value_info("seg", TensorProto.FLOAT, ["N", 2, NET, NET]),
            helper.make_tensor_value_info(
                "heatmaps", TensorProto.FLOAT, ["N", len(CORNERS), NET, NET]
            ),
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, str(path))
    return path


def _image(centre: tuple[float, float] = CENTRE, sigma: float = SIGMA) -> np.ndarray:
    rows, cols = np.indices((ROWS, COLS))
    r2 = (cols + 0.5 - centre[0]) ** 2 + (rows + 0.5 - centre[1]) ** 2  # in pixels
    return np.asarray(1000.0 * np.exp(-r2 / (2 * sigma**2)), dtype=np.float32)


def _reference(
    volume: str, canal: list[tuple[float, float]], keypoints: dict[str, tuple[float, float]]
) -> Reference:
    return Reference(
        name=f"{volume}_sagittal_000",
        volume=volume,
        view="sagittal",
        index=0,
        path=Path(f"{volume}.json"),
        image=_image(),
        spacing=SPACING,
        affine=np.eye(4),
        volume_shape=(1, COLS, ROWS),
        canal=np.asarray(canal, dtype=np.float64),
        keypoints=keypoints,
        document={},
    )


def _rect_mask(x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    """Pixels whose centre lies in [x0, x1] x [y0, y1] (integer edges: columns x0..x1-1)."""
    mask = np.zeros((ROWS, COLS), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float(np.logical_and(a, b).sum()) / float(a.sum() + b.sum())


def _no_cord(reference: Reference) -> None:
    """The synthetic volumes are not in the real registry: no manual cord mask."""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_session(_model(tmp_path_factory.mktemp("blob") / "blob.onnx"))


def test_scores_match_an_independent_computation(session: Any) -> None:
    cx, cy = CENTRE
    # Offsets from the blob centre in pixels (dx, dy), so errors in mm are known exactly.
    offsets = {"K1": (1.0, 0.0), "K2": (0.0, 2.0), "K3": (3.0, 4.0), "K4": (0.0, 0.0)}
    keypoints = {k: (cx + dx, cy + dy) for k, (dx, dy) in offsets.items()}
    keypoints["K5"] = (cx, cy + 10.0)  # the model has no K5 channel: missing, not an error
    # Volume a: a canal rectangle across the lower half of the blob (band rows 40..59).
    band_ref = _reference("vol_a", [(24, 40), (37, 40), (37, 60), (24, 60)], keypoints)
    # Volume b: a canal square close around the blob mask (band rows 33..47).
    big_ref = _reference("vol_b", [(23, 33), (38, 33), (38, 48), (23, 48)], {})
    axial = Reference(**{**band_ref.__dict__, "view": "axial", "name": "vol_c_axial_000"})

    # vol_a's manual cord mask runs from row 10 to the blob's lower edge, far above its band
    # (rows 40..59), where the blob is not; vol_b has none.
    cord_a = _rect_mask(24, 37, 10, 48)
    result = score_references(
        session,
        load_contract(CONTRACT),
        [band_ref, big_ref, axial],
        trained_on={"vol_b"},
        cord_truth=lambda r: cord_a if r.volume == "vol_a" else None,
    )

    # Independent: the model's mask is where the min-max normalised image exceeds one half.
    image = _image()
    blob = (image - image.min()) / (image.max() - image.min()) > 0.5
    band_a = np.zeros_like(blob)
    band_a[40:60] = True
    expected_a = _dice(blob & band_a, _rect_mask(24, 37, 40, 60))
    expected_b = _dice(blob, _rect_mask(23, 38, 33, 48))
    expected_cord = _dice(blob & band_a, cord_a & band_a)  # counted inside the band only
    errors = [float(np.hypot(dx * SPACING[1], dy * SPACING[0])) for dx, dy in offsets.values()]
    # = [1.0, 1.6, 4.39, 0.0]

    assert result["task"] == "sagittal"
    assert set(result["folds"]) == {"vol_a", "vol_b"}  # the axial reference is another task's
    fold_a, fold_b = result["folds"]["vol_a"], result["folds"]["vol_b"]
    assert fold_a["held_out"] is True
    assert fold_b["held_out"] is False
    assert fold_a["canal_dice"]["mean"] == pytest.approx(expected_a, abs=0.02)
    assert fold_b["canal_dice"]["mean"] == pytest.approx(expected_b, abs=0.02)
    expected_a_whole = _dice(blob, _rect_mask(24, 37, 40, 60))
    assert fold_a["canal_dice_whole"]["mean"] == pytest.approx(expected_a_whole, abs=0.02)
    assert expected_b > 0.75  # a close fit, so a mask off by a pixel would show
    assert _dice(blob, _rect_mask(24, 37, 40, 60)) < expected_a - 0.05  # the band matters
    kp = fold_a["keypoints"]
    assert kp["n"] == 4
    assert kp["missing"] == 1
    assert kp["mre_mm"] == pytest.approx(np.mean(errors), abs=0.15)
    assert kp["within_2mm"] == pytest.approx(0.75)
    assert kp["within_4mm"] == pytest.approx(0.75)
    assert kp["max_mm"] == pytest.approx(max(errors), abs=0.15)
    for name, error in zip(offsets, errors, strict=True):
        assert kp["per_corner"][f"vol_a_sagittal_000:{name}"] == pytest.approx(error, abs=0.15)
    # Without a calibration every corner is drawn as a pre-label.
    assert kp["shown"] == 4
    assert kp["shown_within_4mm"] == pytest.approx(0.75)
    assert "keypoints" not in fold_b
    assert fold_a["cord_dice"]["mean"] == pytest.approx(expected_cord, abs=0.02)
    assert fold_a["cord_dice"]["per_slice"] == {"vol_a_sagittal_000": fold_a["cord_dice"]["mean"]}
    assert _dice(blob, cord_a) < expected_cord - 0.05  # the band matters for the cord too
    assert "cord_dice" not in fold_b  # no manual cord mask: not scored, not zero
    pooled = result["pooled"]
    assert pooled["canal_dice"]["n"] == 2
    assert pooled["canal_dice"]["mean"] == pytest.approx(
        (fold_a["canal_dice"]["mean"] + fold_b["canal_dice"]["mean"]) / 2
    )
    assert pooled["keypoints"]["n"] == 4
    assert pooled["cord_dice"] == {"n": 1, "mean": fold_a["cord_dice"]["mean"],
                                   "min": fold_a["cord_dice"]["mean"]}  # fmt: skip


def test_corners_the_calibration_withholds_are_not_counted_as_shown(session: Any) -> None:
    cx, cy = CENTRE
    ref = _reference("vol_a", [(24, 40), (37, 40), (37, 60), (24, 60)], {"K1": (cx, cy)})
    # Every corner's probability of being right is 0.5, under the threshold of 0.9: withheld.
    calibration = {
        "method": "isotonic",
        "keypoint": {"correct_within_mm": 4.0, "threshold": 0.9, "x": [0.0, 1.0], "y": [0.5, 0.5]},
    }
    contract = load_contract({**CONTRACT, "calibration": calibration})
    kp = score_references(session, contract, [ref], cord_truth=_no_cord)["folds"]["vol_a"][
        "keypoints"
    ]
    assert kp["n"] == 1
    assert kp["mre_mm"] == pytest.approx(0.0, abs=0.15)
    assert kp["shown"] == 0
    assert "shown_within_4mm" not in kp


def test_corners_the_level_check_withholds_are_not_counted_as_shown(session: Any) -> None:
    """Named as C3's corners, the four channels make a vertebra with all corners on one point:
    the product withholds them (inference.runtime.level_count), so none is shown."""
    cx, cy = CENTRE
    names = ["C3_AS", "C3_AI", "C3_PS", "C3_PI"]
    outputs = {**CONTRACT["outputs"], "heatmap": {"name": "heatmaps", "keypoints": names}}
    contract = load_contract({**CONTRACT, "outputs": outputs})
    ref = _reference("vol_a", [(24, 40), (37, 40), (37, 60), (24, 60)], {"C3_AS": (cx, cy)})
    kp = score_references(session, contract, [ref], cord_truth=_no_cord)["folds"]["vol_a"][
        "keypoints"
    ]
    assert kp["n"] == 1
    assert kp["shown"] == 0


def test_a_fold_of_a_subject_trained_on_in_another_volume_says_so(session: Any) -> None:
    ref = _reference("sct_example_t2", [(24, 40), (37, 40), (37, 60), (24, 60)], {})
    contract = load_contract(CONTRACT)
    fold = score_references(session, contract, [ref], trained_on={"sct_testing_t1"})["folds"]
    assert fold["sct_example_t2"]["held_out"] is True
    assert fold["sct_example_t2"]["subject_seen"] is True
    fold = score_references(session, contract, [ref], trained_on={"sct_testing_mt"})["folds"]
    assert fold["sct_example_t2"]["subject_seen"] is False


class _SeriesReference(Reference):
    """A synthetic reference annotated on slice 0 of a three-slice series whose slice 2 shows
    the largest blob (where a pre-label job keeps its corners)."""

    def series(self) -> list[np.ndarray]:
        small = _image(centre=(15.5, 20.5), sigma=3.0)
        return [small, _image(centre=(15.5, 60.5), sigma=4.0), _image()]


def test_product_keypoints_are_judged_on_the_slice_a_prelabel_job_keeps(session: Any) -> None:
    cx, cy = CENTRE
    ref = _reference("vol_a", [(24, 40), (37, 40), (37, 60), (24, 60)], {})
    ref = _SeriesReference(
        **{**ref.__dict__, "keypoints": {"K1": (cx + 3.0, cy), "K2": (cx, cy + 5.0)}}
    )
    result = score_product_keypoints(session, load_contract(CONTRACT), [ref], trained_on={"vol_a"})
    item = result["vol_a_sagittal_000"]
    assert item["slice"] == 2
    assert item["reference_slice"] == 0
    assert item["offset_mm"] == pytest.approx(2.0)  # identity affine: 1 mm slices
    assert item["held_out"] is False
    # Errors against the largest blob's centre (the other slices' blobs are 20+ mm away).
    assert item["per_corner"]["K1"] == pytest.approx(3.0 * SPACING[1], abs=0.15)
    assert item["per_corner"]["K2"] == pytest.approx(5.0 * SPACING[0], abs=0.15)
    assert item["within_4mm"] == pytest.approx(1.0)
    assert item["shown"] == 2


def test_a_crop_counts_as_its_full_volume_when_trained_on() -> None:
    assert trained_volumes(["t1"]) == {"sct_testing_t1"}
    assert trained_volumes(["t2"]) == {"sct_testing_t2", "sct_example_t2"}
    assert trained_volumes(["example_t2", "mt"]) == {
        "sct_example_t2",
        "sct_testing_t2",
        "sct_testing_mt",
    }


def test_the_card_section_is_replaced_not_repeated() -> None:
    scores: dict[str, Any] = {
        "sagittal": {
            "model": "sagittal.onnx",
            "sha256": "0" * 64,
            "folds": {
                "sct_example_t2": {
                    "held_out": True,
                    "slices": ["x"],
                    "canal_dice": {"n": 1, "mean": 0.9},
                    "canal_dice_whole": {"n": 1, "mean": 0.85},
                    "keypoints": {
                        "n": 20,
                        "mre_mm": 1.5,
                        "within_2mm": 0.8,
                        "within_4mm": 1.0,
                        "shown": 3,
                        "shown_within_4mm": 2 / 3,
                        "per_corner": {"s:C3_AS": 1.0, "s:C3_PI": 2.0, "s:C7_AS": 4.0},
                    },
                }
            },
            "pooled": {"canal_dice": {"n": 1, "mean": 0.9}, "keypoints": {"n": 20}},
            "product_keypoints": {
                "sct_example_t2_sagittal_025": {
                    "volume": "sct_example_t2",
                    "slice": 24,
                    "offset_mm": 1.0,
                    "mre_mm": 2.5,
                    "within_4mm": 0.9,
                    "shown": 4,
                }
            },
        }
    }
    card = replace_card_section("# Card\n\nintro\n", card_section(scores))
    again = replace_card_section(card + "\n## After\n", card_section(scores))
    assert again.count("## Real references (project-annotated)") == 1
    row = "| `sct_example_t2` | yes | 1 | 90.0 | 85.0 | 20 | 1.5 | 80.0 | 100.0 | 3 | 66.7 |"
    assert row in again
    assert "`sct_example_t2` C3 1.5, C7 4.0." in again
    assert "`sct_example_t2` slice 24 (1 mm from the reference's), MRE 2.5 mm" in again
    assert again.endswith("## After\n")
    assert "cord Dice % (band)" not in again  # no volume with a manual cord mask

    scores["sagittal"]["folds"]["sct_testing_t2"] = {
        "held_out": False,
        "slices": ["y"],
        "canal_dice": {"n": 1, "mean": 0.95},
        "canal_dice_whole": {"n": 1, "mean": 0.94},
        "cord_dice": {"n": 1, "mean": 0.93},
    }
    scores["sagittal"]["pooled"]["cord_dice"] = {"n": 1, "mean": 0.93}
    with_cord = card_section(scores)
    assert "canal Dice % (whole slice) | cord Dice % (band) | corners" in with_cord
    assert "| `sct_example_t2` | yes | 1 | 90.0 | 85.0 | — | 20 | 1.5 |" in with_cord
    assert "| `sct_testing_t2` | no (trained on) | 1 | 95.0 | 94.0 | 93.0 | — |" in with_cord


def test_the_picture_shows_reference_and_model_in_their_colours(
    session: Any, tmp_path: Path
) -> None:
    from PIL import Image

    cx, cy = CENTRE
    ref = _reference("vol_a", [(24, 40), (37, 40), (37, 60), (24, 60)], {"K1": (cx + 3.0, cy)})
    prediction = predict_slices(session, load_contract(CONTRACT), [ref.image], [SPACING])[0]
    path = render_reference_picture(ref, prediction, tmp_path / "p.png", shown={"K1"})
    rgb = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(int)
    green = (rgb[:, 1] > 200) & (rgb[:, 0] < 80) & (rgb[:, 2] < 80)
    red = (rgb[:, 0] > 200) & (rgb[:, 1] < 80) & (rgb[:, 2] < 80)
    assert green.sum() > 20  # the reference's canal and corner
    assert red.sum() > 20  # the model's canal and drawn corner
    # Drawn at a fixed scale in mm: the longer side is 480 picture pixels.
    width, height = Image.open(path).size
    assert max(width, height) == pytest.approx(480, abs=2)
