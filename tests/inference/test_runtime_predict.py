"""Prediction post-processing: inverse mapping, polygons, keypoints, uncertainty, labelme shapes,
and the session cache."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from inference.runtime.components import find_components
from inference.runtime.contract import ModelContract, contract_from_dict
from inference.runtime.predict import (
    Keypoint,
    SlicePrediction,
    decode_heatmap,
    predict_slices,
    prediction_to_shapes,
    sagittal_band,
)
from inference.runtime.preprocess import InputError
from inference.runtime.sessions import (
    CPU,
    available_providers,
    clear_session_cache,
    create_session,
    file_sha256,
    get_session,
    session_providers,
    view_session,
)
from inference.runtime.view_graph import view_name, with_view_branch
from inference.training.nets import KEYPOINT_NAMES
from tests.inference.tiny import record_batches

NET = 64


def write_model(path: Path, size: int = 32, channels: int = 2) -> Path:
    """A one-convolution ONNX model (input "image", output "seg")."""
    weight = numpy_helper.from_array(np.ones((channels, 1, 1, 1), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "w"], ["seg"])],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, size, size])],
        [helper.make_tensor_value_info("seg", TensorProto.FLOAT, ["N", channels, size, size])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, str(path))
    return path


def disc_logits(centre: tuple[float, float] = (32.0, 24.0), radius: float = 10.0) -> np.ndarray:
    """(2, NET, NET) logits: +8 inside a disc centred at `centre` (network coordinates), -8
    outside, on both channels."""
    v, u = np.mgrid[0:NET, 0:NET] + 0.5
    inside = np.hypot(u - centre[0], v - centre[1]) <= radius
    return np.stack([np.where(inside, 8.0, -8.0)] * 2).astype(np.float32)


def gaussian_heatmaps(points: np.ndarray) -> np.ndarray:
    """(20, NET, NET) Gaussian peaks of height 0.9 at `points` (network coordinates)."""
    v, u = np.mgrid[0:NET, 0:NET] + 0.5
    heat = np.zeros((len(KEYPOINT_NAMES), NET, NET), np.float32)
    for k, (x, y) in enumerate(points):
        heat[k] = 0.9 * np.exp(-((u - x) ** 2 + (v - y) ** 2) / (2 * 2.0**2))
    return heat


def pattern_model(
    path: Path, seg: np.ndarray, heat: np.ndarray | None = None, *, batch: str | int = "N"
) -> Path:
    """An ONNX graph that outputs the same patterns ("seg", and "heat" when given) for every
    slice of its batch: pattern + 0 * sum(image), so the batch size comes from the input."""
    patterns = {"seg": seg} if heat is None else {"seg": seg, "heat": heat}
    initializers = [
        numpy_helper.from_array(np.array([1, 2, 3], np.int64), "axes"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        *(
            numpy_helper.from_array(a[None].astype(np.float32), f"{n}_pattern")
            for n, a in patterns.items()
        ),
    ]
    nodes = [
        helper.make_node("ReduceSum", ["image", "axes"], ["total"], keepdims=1),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        *(helper.make_node("Add", ["nothing", f"{n}_pattern"], [n]) for n in patterns),
    ]
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, [batch, a.shape[0], NET, NET])
        for n, a in patterns.items()
    ]
    graph = helper.make_graph(
        nodes,
        "patterns",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 1, NET, NET])],
        outputs,
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def session_of(tmp_path: Path) -> Callable[..., Any]:
    """Builds a pattern model (see `pattern_model`) and opens it with the product's
    `create_session`: a real onnxruntime.InferenceSession."""
    count = itertools.count()

    def open_session(
        *,
        centre: tuple[float, float] = (32.0, 24.0),
        radius: float = 10.0,
        points: np.ndarray | None = None,
        batch: str | int = "N",
    ) -> Any:
        heat = None if points is None else gaussian_heatmaps(points)
        path = tmp_path / f"patterns-{next(count)}.onnx"
        return create_session(pattern_model(path, disc_logits(centre, radius), heat, batch=batch))

    return open_session


def contract(
    *, heatmap: bool = True, extent: str = "full", keypoint_min_span_mm: float | None = None
) -> ModelContract:
    data: dict[str, Any] = {
        "task": "sagittal",
        "input": {"name": "image", "size": [NET, NET]},
        "preprocessing": {"roi": "foreground_box", "keypoint_min_span_mm": keypoint_min_span_mm},
        "outputs": {"segmentation": {"name": "seg", "labels": ["cord", "canal"]}},
        "postprocessing": {"polygon_tolerance_px": 0.25, "extent": extent},
    }
    if heatmap:
        data["outputs"]["heatmap"] = {"name": "heat", "keypoints": list(KEYPOINT_NAMES)}
    return contract_from_dict(data)


def image_with_tissue(
    shape: tuple[int, int] = (200, 160), box: tuple[int, int, int, int] = (20, 40, 148, 168)
) -> np.ndarray:
    image = np.zeros(shape, np.uint16)
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = 1000
    return image


def points_on_grid() -> np.ndarray:
    """Sub-pixel corners on the network grid laid out as five vertebral bodies (15 mm high,
    30 mm deep, 6.5 mm discs on the image), which the level check keeps."""
    layout = corner_keypoints(top=4.3, height=7.5, disc=3.25, x=10.0)
    return np.array([[layout[n].x, layout[n].y] for n in KEYPOINT_NAMES])


def test_a_disc_on_the_network_grid_comes_back_as_a_polygon_on_the_image(session_of):
    # Tissue box 128 x 128 px at (20, 40): 2 image pixels per network pixel.
    session = session_of()
    pred = predict_slices(session, contract(heatmap=False), [image_with_tissue()], [(1, 1)])[0]
    polygon = pred.polygons["cord"]
    assert polygon is not None
    assert len(polygon) >= 8
    centre = polygon.mean(axis=0)
    assert centre == pytest.approx((20 + 2 * 32, 40 + 2 * 24), abs=0.5)
    radii = np.hypot(*(polygon - (84, 88)).T)
    assert radii == pytest.approx(20.0, abs=1.0)
    area = pred.masks["cord"].sum()
    assert area == pytest.approx(math.pi * 20**2, rel=0.05)
    assert pred.shape_confidence["cord"] > 0.9
    assert pred.masks["cord"].shape == (200, 160)


def test_the_largest_component_keeps_its_place_on_the_grid_with_holes_filled():
    # The component search runs inside the mask's bounding box: the result must still be the
    # largest component, where it was, on the whole grid, its hole filled.
    mask = np.zeros((120, 90), bool)
    mask[70:110, 50:80] = True  # the largest, far from the origin
    mask[85:95, 60:70] = False  # its hole
    mask[5:9, 8:14] = True  # a smaller one, which widens the bounding box
    found = find_components(mask.astype(np.float32), 0.5, min_pixels=10)
    assert found is not None
    assert found.largest is not None
    component = found.filled(found.largest)
    assert component.shape == mask.shape
    expected = np.zeros_like(mask)
    expected[70:110, 50:80] = True
    assert np.array_equal(component, expected)
    too_small = find_components(mask.astype(np.float32), 0.5, min_pixels=2000)
    assert too_small is not None
    assert too_small.largest is None
    assert find_components(np.zeros((5, 5), np.float32), 0.5, min_pixels=1) is None


def test_keypoints_are_mapped_back_with_sub_pixel_precision(session_of):
    points = points_on_grid()
    session = session_of(points=points)
    pred = predict_slices(session, contract(), [image_with_tissue()], [(1, 1)])[0]
    assert list(pred.keypoints) == list(KEYPOINT_NAMES)
    for name, (u, v) in zip(KEYPOINT_NAMES, points, strict=True):
        kp = pred.keypoints[name]
        assert (kp.x, kp.y) == pytest.approx((20 + 2 * u, 40 + 2 * v), abs=0.1)
        assert kp.confidence == pytest.approx(0.9, abs=0.05)


def test_a_small_field_of_view_reads_its_keypoints_from_a_wider_view(session_of):
    # The tissue box spans 128 mm; the contract asks for keypoints from at least 256 mm: the
    # box grows about its centre (84, 104) to 256 x 256 pixels, 4 image pixels per network
    # pixel, in the same batch as the slice. The masks stay on the slice's own box.
    points = points_on_grid()
    session = session_of(points=points)
    calls = record_batches(session)
    branched = view_session(session, "heat")
    view_calls = record_batches(branched, view_name("image"))
    image = image_with_tissue()
    wide = predict_slices(session, contract(keypoint_min_span_mm=256.0), [image], [(1, 1)])[0]
    assert calls == []  # the slice and its wider view in one run of the branched network
    assert view_calls == [1]
    assert wide.keypoint_span_mm == pytest.approx(256.0)
    for name, (u, v) in zip(KEYPOINT_NAMES, points, strict=True):
        kp = wide.keypoints[name]
        assert (kp.x, kp.y) == pytest.approx((84 - 128 + 4 * u, 104 - 128 + 4 * v), abs=0.2)
    plain = predict_slices(session, contract(), [image], [(1, 1)])[0]
    assert plain.keypoint_span_mm is None
    assert np.array_equal(wide.masks["cord"], plain.masks["cord"])
    # A field of view as wide as the contract asks for has one view.
    view_calls.clear()
    same = predict_slices(session, contract(keypoint_min_span_mm=128.0), [image], [(1, 1)])[0]
    assert calls == [1, 1]  # `plain` above, then this one
    assert view_calls == []
    assert same.keypoint_span_mm is None
    assert same.keypoints["C3_AS"].x == pytest.approx(plain.keypoints["C3_AS"].x)


def test_keypoints_outside_the_image_become_no_shape():
    # A wider view puts the corners a crop cut off in its padding: nothing to save or correct.
    prediction = SlicePrediction(
        image_shape=(60, 50),
        probabilities={},
        masks={},
        polygons={},
        shape_confidence={},
        keypoints={
            "C3_AS": Keypoint(x=10.0, y=20.0, confidence=0.9),
            "C7_AI": Keypoint(x=30.0, y=75.0, confidence=0.9),
            "C7_AS": Keypoint(x=-3.0, y=40.0, confidence=0.9),
            "C6_AI": Keypoint(x=50.0, y=60.0, confidence=0.9),  # on the far edge: inside
        },
    )
    labels = [s["label"] for s in prediction_to_shapes(prediction)]
    assert labels == ["C3_AS", "C6_AI"]


def test_wider_views_run_in_the_slices_chunks_and_keep_the_slice_order(session_of):
    session = session_of(points=points_on_grid())
    branched = view_session(session, "heat")
    calls = record_batches(branched)
    view_calls = record_batches(branched, view_name("image"))
    small, large = image_with_tissue(), image_with_tissue(shape=(400, 400), box=(0, 0, 400, 400))
    preds = predict_slices(
        session,
        contract(keypoint_min_span_mm=256.0),
        [small, large, small],
        [(1, 1)] * 3,
        batch_size=2,
    )
    # Chunks of two slices: (small, large) with a view of the small one; then (small) + view.
    assert calls == [2, 1]
    assert view_calls == [1, 1]
    # A session whose views cannot go through a branch (here a fixed batch of four) runs
    # them through the whole network in the slices' batches.
    fixed = session_of(points=points_on_grid(), batch=4)
    assert view_session(fixed, "heat") is None
    fixed_calls = record_batches(fixed)
    again = predict_slices(
        fixed, contract(keypoint_min_span_mm=256.0), [small, large, small], [(1, 1)] * 3
    )
    assert fixed_calls == [4, 4]  # 3 slices + 2 views, padded to fours
    for a, b in zip(preds, again, strict=True):
        assert a.keypoints["C3_AS"].x == pytest.approx(b.keypoints["C3_AS"].x)
    assert [p.keypoint_span_mm for p in preds] == [pytest.approx(256.0), None, pytest.approx(256.0)]
    assert preds[1].keypoints["C3_AS"].x == pytest.approx(400 / NET * 10.0, abs=0.2)
    assert preds[0].keypoints["C3_AS"].x == preds[2].keypoints["C3_AS"].x


def test_decode_heatmap_finds_an_off_grid_gaussian_peak():
    v, u = np.mgrid[0:32, 0:32] + 0.5
    heat = np.exp(-((u - 12.3) ** 2 + (v - 20.8) ** 2) / (2 * 1.5**2))
    x, y, peak = decode_heatmap(heat)
    assert (x, y) == pytest.approx((12.3, 20.8), abs=0.01)
    assert peak > 0.9


def test_shapes_are_labelme_shapes_with_confidence(session_of):
    session = session_of(points=points_on_grid())
    pred = predict_slices(session, contract(), [image_with_tissue()], [(1, 1)])[0]
    shapes = prediction_to_shapes(pred)
    polygons = [s for s in shapes if s["shape_type"] == "polygon"]
    points = [s for s in shapes if s["shape_type"] == "point"]
    assert {s["label"] for s in polygons} == {"cord", "canal"}
    assert [s["label"] for s in points] == list(KEYPOINT_NAMES)
    for shape in shapes:
        assert set(shape) >= {"label", "points", "group_id", "description", "shape_type", "flags"}
        assert shape["group_id"] is None
        assert shape["flags"] == {}
        assert shape["description"] == ""
        assert 0.0 <= shape["confidence"] <= 1.0
        assert all(math.isfinite(c) for p in shape["points"] for c in p)
    assert all(len(s["points"]) >= 3 for s in polygons)
    assert all(len(s["points"]) == 1 for s in points)
    assert prediction_to_shapes(pred, keypoint_min_confidence=0.95) == polygons


def test_nothing_predicted_gives_no_polygon_and_full_uncertainty(session_of):
    session = session_of(radius=0.0)
    pred = predict_slices(session, contract(heatmap=False), [image_with_tissue()], [(1, 1)])[0]
    assert pred.polygons["cord"] is None
    assert not pred.masks["cord"].any()
    assert pred.uncertainty == 1.0
    assert prediction_to_shapes(pred) == []


def test_uncertainty_is_low_for_a_crisp_prediction_and_within_bounds(session_of):
    session = session_of()
    pred = predict_slices(session, contract(heatmap=False), [image_with_tissue()], [(1, 1)])[0]
    assert 0.0 <= pred.uncertainty < 0.05


def test_slices_are_batched_and_keep_their_order(session_of):
    session = session_of(points=points_on_grid())
    calls = record_batches(session)
    images = [image_with_tissue(box=(20 + 2 * i, 40, 148 + 2 * i, 168)) for i in range(5)]
    preds = predict_slices(session, contract(), images, [(1, 1)] * 5, batch_size=2)
    assert calls == [2, 2, 1]
    xs = [p.keypoints["C3_AS"].x for p in preds]
    assert xs == pytest.approx([20 + 2 * i + 2 * 10.0 for i in range(5)], abs=0.1)


def test_a_fixed_batch_model_gets_padded_batches(session_of):
    # ONNX Runtime refuses any other batch size than the model's 4.
    session = session_of(points=points_on_grid(), batch=4)
    calls = record_batches(session)
    preds = predict_slices(
        session, contract(), [image_with_tissue()] * 5, [(1, 1)] * 5, batch_size=2
    )
    assert calls == [4, 4]
    assert len(preds) == 5
    assert all(p.keypoints["C3_AS"].x == pytest.approx(20 + 2 * 10.0, abs=0.1) for p in preds)


def test_bad_inputs_name_the_slice(session_of):
    c = contract(heatmap=False)
    session = session_of()
    with pytest.raises(InputError, match="2 images but 1 spacings"):
        predict_slices(session, c, [image_with_tissue()] * 2, [(1, 1)])
    bad = np.zeros((10, 10), np.float64)
    with pytest.raises(InputError, match="slice 1: image: unsupported pixel type float64"):
        predict_slices(session, c, [image_with_tissue(), bad], [(1, 1), (1, 1)])
    with pytest.raises(InputError, match="slice 0: spacing"):
        predict_slices(session, c, [image_with_tissue()], [(0, 1)])


def corner_keypoints(
    top: float = 50.0, height: float = 16.0, disc: float = 6.0, x: float = 40.0, conf: float = 0.9
) -> dict[str, Keypoint]:
    out = {}
    y = top
    for level in range(3, 8):
        for corner in ("AS", "AI", "PS", "PI"):
            dy = height if corner.endswith("I") else 0.0
            dx = 15.0 if corner.startswith("P") else 0.0
            out[f"C{level}_{corner}"] = Keypoint(x + dx, y + dy, conf)
        y += height + disc
    return out


def test_the_sagittal_band_runs_between_the_c2c3_and_c7t1_disc_centres():
    band = sagittal_band(corner_keypoints(), (200, 100), (1.0, 1.0), 0.3)
    assert band is not None
    rows = np.nonzero(band.any(axis=1))[0]
    # C3 top at 50, half a 6 px disc above: 47; C7 bottom at 50 + 4 * 22 + 16 = 154, +3: 157.
    assert (rows.min(), rows.max()) == (47, 156)
    assert band[100].all()


def test_the_band_is_not_applied_with_unconfident_corners():
    keypoints = corner_keypoints()
    keypoints["C7_PI"] = Keypoint(55.0, 154.0, 0.1)
    assert sagittal_band(keypoints, (200, 100), (1.0, 1.0), 0.3) is None


def test_the_band_is_not_applied_with_implausible_corners():
    upside_down = {
        name: Keypoint(kp.x, 300.0 - kp.y, kp.confidence) for name, kp in corner_keypoints().items()
    }
    assert sagittal_band(upside_down, (300, 100), (1.0, 1.0), 0.3) is None
    # Bodies 40 mm tall: a C2/C3 to C7/T1 span far beyond a neck's.
    assert sagittal_band(corner_keypoints(height=40.0), (400, 100), (1.0, 1.0), 0.3) is None
    assert sagittal_band(corner_keypoints(disc=20.0), (400, 100), (1.0, 1.0), 0.3) is None


def test_the_extent_rule_cuts_the_masks_to_the_band(session_of):
    # Vertebrae on network rows 5..57 (8 px bodies, 3 px discs), a disc of logits on 2..62.
    layout = corner_keypoints(top=5.0, height=8.0, disc=3.0, x=10.0)
    points = np.array([[layout[n].x, layout[n].y] for n in KEYPOINT_NAMES])
    session = session_of(points=points, centre=(32.0, 32.0), radius=30.0)
    image = [image_with_tissue()]
    full = predict_slices(session, contract(), image, [(1, 1)])[0]
    cut = predict_slices(session, contract(extent="c2c3_to_c7t1"), image, [(1, 1)])[0]
    rows = np.nonzero(cut.masks["cord"].any(axis=1))[0]
    # Network rows 3.5 .. 58.5 are image rows 40 + 2 * row.
    assert (rows.min(), rows.max() + 1) == (47, 157)
    assert not (cut.masks["cord"] & ~full.masks["cord"]).any()
    assert full.masks["cord"].sum() > cut.masks["cord"].sum()


def test_corners_that_make_no_spine_are_withheld_and_swapped_levels_renamed(session_of):
    # Issue 14 §5: levels by order and plausibility, not by the network's naming alone.
    layout = corner_keypoints(top=4.3, height=7.5, disc=3.25, x=10.0)
    swapped = dict(layout)
    for corner in ("AS", "AI", "PS", "PI"):
        swapped[f"C4_{corner}"], swapped[f"C6_{corner}"] = (
            layout[f"C6_{corner}"], layout[f"C4_{corner}"]
        )  # fmt: skip
    points = np.array([[swapped[n].x, swapped[n].y] for n in KEYPOINT_NAMES])
    pred = predict_slices(session_of(points=points), contract(), [image_with_tissue()], [(1, 1)])[0]
    assert pred.levels_renamed == {"C4": "C6", "C6": "C4"}
    assert pred.keypoints_withheld == {}
    assert pred.keypoints["C4_AS"].y == pytest.approx(40 + 2 * layout["C4_AS"].y, abs=0.1)
    # The old pattern: 20 corners along one diagonal line make no vertebral body.
    line = np.array([[10.0 + 2.25 * k, 8.0 + 2.5 * k] for k in range(20)])
    pred = predict_slices(session_of(points=line), contract(), [image_with_tissue()], [(1, 1)])[0]
    assert set(pred.keypoints_withheld) == set(KEYPOINT_NAMES)
    assert all(pred.keypoints[n].confidence == 0.0 for n in KEYPOINT_NAMES)
    assert prediction_to_shapes(pred, keypoint_min_confidence=0.01) == [
        s for s in prediction_to_shapes(pred) if s["shape_type"] == "polygon"
    ]


def test_a_branched_network_gives_the_whole_networks_outputs_for_both_views(session_of, tmp_path):
    session = session_of(points=points_on_grid())
    branched = view_session(session, "heat")
    assert branched is not None
    assert view_session(session, "heat") is branched  # branched once per session and output
    assert [i.name for i in branched.get_inputs()] == ["image", "view/image"]
    assert [o.name for o in branched.get_outputs()] == ["seg", "heat", "view/heat"]
    rng = np.random.default_rng(0)
    slices = rng.random((2, 1, NET, NET), dtype=np.float32)
    views = rng.random((1, 1, NET, NET), dtype=np.float32)
    seg, heat, view_heat = branched.run(
        ["seg", "heat", "view/heat"], {"image": slices, "view/image": views}
    )
    whole_seg, whole_heat = session.run(["seg", "heat"], {"image": slices})
    assert np.array_equal(seg, whole_seg)
    assert np.array_equal(heat, whole_heat)
    assert np.array_equal(view_heat, session.run(["heat"], {"image": views})[0])
    # A session the product did not open (its file unknown) has no branch.
    import onnxruntime as ort

    path = pattern_model(
        tmp_path / "foreign.onnx", disc_logits(), gaussian_heatmaps(points_on_grid())
    )
    foreign = ort.InferenceSession(str(path), providers=[CPU])
    assert view_session(foreign, "heat") is None


def test_a_network_without_the_output_or_with_two_inputs_is_not_branched(tmp_path):
    model = onnx.load(str(write_model(tmp_path / "m.onnx")))
    with pytest.raises(ValueError, match="no output 'heat'"):
        with_view_branch(model, "heat")
    model.graph.input.append(helper.make_tensor_value_info("other", TensorProto.FLOAT, [1]))
    with pytest.raises(ValueError, match="one input, the network has 2"):
        with_view_branch(model, "seg")


def test_sessions_are_cached_per_file_and_digest(tmp_path):
    clear_session_cache()
    path = write_model(tmp_path / "m.onnx")
    a = get_session(path)
    assert get_session(path, sha256=file_sha256(path)) is a
    assert session_providers(a)[-1] == CPU
    with pytest.raises(Exception, match="sha256 is"):
        get_session(path, sha256="0" * 64)
    write_model(path, size=16)  # replaced on disk: a new digest, a new session
    assert get_session(path) is not a
    clear_session_cache()


def test_cpu_is_always_the_last_provider():
    providers = available_providers()
    assert providers[-1] == CPU
    assert set(providers) <= {"CUDAExecutionProvider", CPU}


def test_sessions_take_the_highest_optimisation_unless_told(tmp_path):
    import onnxruntime as ort

    path = write_model(tmp_path / "model.onnx")
    with pytest.raises(ValueError, match="optimisation must be one of"):
        create_session(path, optimisation="fastest")
    default, extended = create_session(path), create_session(path, optimisation="extended")
    levels = ort.GraphOptimizationLevel
    assert default.get_session_options().graph_optimization_level == levels.ORT_ENABLE_ALL
    assert extended.get_session_options().graph_optimization_level == levels.ORT_ENABLE_EXTENDED
    feeds = {"image": np.ones((1, 1, 32, 32), np.float32)}
    out, ext = default.run(None, feeds), extended.run(None, feeds)
    assert out[0].shape == (1, 2, 32, 32)
    np.testing.assert_allclose(out[0], ext[0], rtol=1e-5, atol=1e-5)
