"""Disc levels of axial images from sagittal vertebral corners (measurements.core.levels).

A synthetic spine is built here from its own parameters (vertebral body and disc heights
along a straight axis), so every expected disc centre is known without the code under test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fixtures.demo import DEMO_PHANTOMS
from fixtures.phantom import make_phantom
from measurements.core.levels import AxialPlane, assign_levels, disc_centres
from measurements.core.patient import SliceGeometry, slice_geometry

BODY_MM = 14.0
DISCS_MM = {"C3/4": 5.0, "C4/5": 6.0, "C5/6": 4.0, "C6/7": 5.0}  # mean 5.0
DEPTH_MM = 15.0
VERTEBRAE = ("C3", "C4", "C5", "C6", "C7")


def rotation(axis: tuple[float, float, float], degrees: float) -> np.ndarray:
    k = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    t = np.radians(degrees)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    out: np.ndarray = np.eye(3) + np.sin(t) * kx + (1 - np.cos(t)) * kx @ kx
    return out


class Spine:
    """Vertebrae C3..C7 along `down` (unit, inferior), anterior edge through `origin`,
    posterior towards `back`; s = distance along `down` from C3's superior endplate."""

    def __init__(self, rot: np.ndarray, origin: tuple[float, float, float] = (3.0, -20.0, 40.0)):
        self.down = rot @ np.array([0.0, 0.0, -1.0])
        self.back = rot @ np.array([0.0, 1.0, 0.0])
        self.origin = np.asarray(origin)
        self.top: dict[str, float] = {}
        self.bottom: dict[str, float] = {}
        s = 0.0
        levels = list(DISCS_MM.values())
        for i, v in enumerate(VERTEBRAE):
            self.top[v], self.bottom[v] = s, s + BODY_MM
            s += BODY_MM + (levels[i] if i < len(levels) else 0.0)

    def point(self, s: float, t: float = 0.0) -> np.ndarray:
        out: np.ndarray = self.origin + s * self.down + t * self.back
        return out

    def corners(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for v in VERTEBRAE:
            for name, s, t in (
                ("AS", self.top[v], 0.0),
                ("PS", self.top[v], DEPTH_MM),
                ("AI", self.bottom[v], 0.0),
                ("PI", self.bottom[v], DEPTH_MM),
            ):
                out[f"{v}_{name}"] = list(self.point(s, t))
        return out

    def disc_s(self) -> dict[str, float]:
        """Expected centre of each disc (s), C2/3 and C7/T1 half the mean disc height out."""
        mean = float(np.mean(list(DISCS_MM.values())))
        out = {"C2/3": -mean / 2, "C7/T1": self.bottom["C7"] + mean / 2}
        for upper, lower in itertools.pairwise(VERTEBRAE):
            out[f"{upper}/{lower[1:]}"] = (self.bottom[upper] + self.top[lower]) / 2
        return out


def plane_through(
    spine: Spine,
    image_id: int,
    s: float,
    *,
    tilt: np.ndarray | None = None,
    spacing: float | None = 3.0,
    shape: tuple[int, int] | None = (320, 320),
) -> AxialPlane:
    """An axial image (normal along the spine, optionally tilted) whose plane passes through
    the spine's axis at `s`, the axis at the image centre."""
    tilt = np.eye(3) if tilt is None else tilt
    row = tilt @ np.cross(spine.back, spine.down)  # patient right → left-ish
    col = tilt @ spine.back
    centre = spine.point(s, DEPTH_MM / 2)
    ps = 0.5
    ipp = centre - 160 * ps * row - 160 * ps * col
    geom = SliceGeometry(
        image_position=(float(ipp[0]), float(ipp[1]), float(ipp[2])),
        row_direction=(float(row[0]), float(row[1]), float(row[2])),
        column_direction=(float(col[0]), float(col[1]), float(col[2])),
        spacing=(ps, ps),
        shape=shape,
    )
    return AxialPlane(image_id=image_id, geometry=geom, slice_spacing_mm=spacing)


def stack(spine: Spine, **kwargs: object) -> tuple[list[AxialPlane], dict[int, str]]:
    """One image at each disc centre (ids 100+) and one mid-body image per vertebra (ids 200+)."""
    planes, truth = [], {}
    for i, (level, s) in enumerate(sorted(spine.disc_s().items(), key=lambda kv: kv[1])):
        planes.append(plane_through(spine, 100 + i, s, **kwargs))  # type: ignore[arg-type]
        truth[100 + i] = level
    for i, v in enumerate(VERTEBRAE):
        s = (spine.top[v] + spine.bottom[v]) / 2
        planes.append(plane_through(spine, 200 + i, s, **kwargs))  # type: ignore[arg-type]
    return planes, truth


def assigned(result: object) -> dict[int, str]:
    return {a.image_id: a.level for a in result.assignments}  # type: ignore[attr-defined]


def test_disc_centres_axis_aligned_match_the_construction():
    spine = Spine(np.eye(3))
    discs, notes = disc_centres(spine.corners())
    assert notes == []
    expected = spine.disc_s()
    assert [d.level for d in discs] == ["C2/3", "C3/4", "C4/5", "C5/6", "C6/7", "C7/T1"]
    for d in discs:
        assert d.centre == pytest.approx(list(spine.point(expected[d.level], DEPTH_MM / 2)))
        assert d.axis == pytest.approx([0, 0, -1])
        assert d.estimated == (d.level in ("C2/3", "C7/T1"))
        assert d.height_mm == pytest.approx(DISCS_MM.get(d.level, 5.0))


def test_each_level_takes_its_disc_image_axis_aligned():
    spine = Spine(np.eye(3))
    planes, truth = stack(spine)
    result = assign_levels(spine.corners(), planes)
    assert assigned(result) == truth
    assert all(a.distance_mm == pytest.approx(0, abs=1e-9) for a in result.assignments)
    assert result.notes == ()


@pytest.mark.parametrize("degrees", [17.0, -33.0, 60.0])
def test_oblique_spine_and_oblique_stack(degrees: float):
    """Everything turned about an oblique axis; the images further tilted by 12 degrees
    about their own row so their planes are oblique to the spine too."""
    rot = rotation((0.3, 0.8, -0.5), degrees)
    spine = Spine(rot)
    ax = np.cross(spine.back, spine.down)
    tilt = rotation((float(ax[0]), float(ax[1]), float(ax[2])), 12.0)
    planes, truth = stack(spine, tilt=tilt)
    result = assign_levels(spine.corners(), planes)
    assert assigned(result) == truth
    for a in result.assignments:
        assert a.distance_mm == pytest.approx(0, abs=1e-6)


def test_distances_are_along_the_image_normal():
    spine = Spine(rotation((1.0, 0.0, 0.0), 25.0))
    plane = plane_through(spine, 7, spine.disc_s()["C4/5"] + 1.5)
    result = assign_levels(spine.corners(), [plane])
    (a,) = result.assignments
    assert (a.level, a.image_id) == ("C4/5", 7)
    assert a.distance_mm == pytest.approx(1.5)
    assert a.tolerance_mm == pytest.approx(6.0 / 2 + 3.0 / 2)


def test_missing_corners_leave_their_levels_out_with_a_note():
    spine = Spine(np.eye(3))
    corners = {k: v for k, v in spine.corners().items() if not k.startswith("C5_")}
    planes, truth = stack(spine)
    result = assign_levels(corners, planes)
    expected = {i: lvl for i, lvl in truth.items() if lvl not in ("C4/5", "C5/6")}
    assert assigned(result) == expected
    assert any(n.startswith("C4/5") for n in result.notes)
    assert any(n.startswith("C5/6") for n in result.notes)


PARTIAL_DROP = ("C3_AS", "C3_PI", "C4_AS", "C5_PS", "C6_AI", "C7_AS")


@pytest.mark.parametrize("degrees", [0.0, 35.0])
def test_partial_corners_still_place_every_disc(degrees: float):
    """A model or a hurried reader leaves corners out: each disc with at least one corner
    of each endplate is placed (axis from the vertebrae's walls, else the column's), with
    a note; here every disc lacks some corner but C5/6."""
    spine = Spine(rotation((0.5, -0.2, 0.8), degrees))
    corners = {k: v for k, v in spine.corners().items() if k not in PARTIAL_DROP}
    discs, notes = disc_centres(corners)
    expected = spine.disc_s()
    assert [d.level for d in discs] == ["C2/3", "C3/4", "C4/5", "C5/6", "C6/7", "C7/T1"]
    for d in discs:
        on_axis = np.dot(np.asarray(d.centre) - spine.origin, spine.down)
        # C2/3 follows the whole column's principal axis (C3 has no complete wall here),
        # which the uneven corners tilt by a hair.
        assert on_axis == pytest.approx(expected[d.level], abs=1e-2), d.level
        assert d.axis == pytest.approx(list(spine.down), abs=0.03)  # under 2 degrees
        assert d.height_mm == pytest.approx(DISCS_MM.get(d.level, 5.0), abs=1e-2)
    partial = {n.split(":")[0] for n in notes if "of its 4 corners" in n}
    assert partial == {"C3/4", "C4/5", "C6/7"}
    planes, truth = stack(spine)
    assert assigned(assign_levels(corners, planes)) == truth


def test_two_corners_give_no_axis_and_no_disc():
    spine = Spine(np.eye(3))
    corners = {k: v for k, v in spine.corners().items() if k in ("C3_AI", "C4_AS")}
    result = assign_levels(corners, stack(spine)[0])
    assert result.discs == ()
    assert result.assignments == ()


def test_no_measured_disc_places_nothing():
    spine = Spine(np.eye(3))
    corners = {k: v for k, v in spine.corners().items() if k.startswith("C3_")}
    result = assign_levels(corners, stack(spine)[0])
    assert result.assignments == ()
    assert result.discs == ()
    assert any("no measured disc height" in n for n in result.notes)


def test_out_of_tolerance_slices_take_no_level():
    spine = Spine(np.eye(3))
    s = spine.disc_s()["C5/6"]  # disc height 4: tolerance 2 + 3/2 = 3.5 mm
    inside = plane_through(spine, 1, s + 3.4)
    outside = plane_through(spine, 2, s - 3.6)
    result = assign_levels(spine.corners(), [inside])
    assert assigned(result) == {1: "C5/6"}
    result = assign_levels(spine.corners(), [outside])
    assert "C5/6" not in assigned(result).values()
    assert any(n.startswith("C5/6: no axial image") for n in result.notes)
    # Unknown slice spacing counts as 0: tolerance 2 mm.
    result = assign_levels(spine.corners(), [plane_through(spine, 3, s + 2.5, spacing=None)])
    assert assigned(result) == {}


def test_the_closest_image_wins_and_an_image_takes_one_level():
    spine = Spine(np.eye(3))
    s = spine.disc_s()["C3/4"]
    near, far = plane_through(spine, 1, s + 0.4), plane_through(spine, 2, s - 1.0)
    result = assign_levels(spine.corners(), [far, near])
    assert assigned(result) == {1: "C3/4"}
    # A thick-gapped image between C4/5 and C5/6 goes to the closer disc only.
    gap = plane_through(spine, 3, spine.disc_s()["C4/5"] + 2.0, spacing=40.0)
    result = assign_levels(spine.corners(), [gap])
    assert assigned(result) == {3: "C4/5"}


def test_a_sagittal_image_through_the_disc_takes_no_level():
    spine = Spine(np.eye(3))
    centre = spine.point(spine.disc_s()["C4/5"], DEPTH_MM / 2)
    geom = SliceGeometry(
        image_position=(float(centre[0]), float(centre[1]) - 50, float(centre[2]) + 50),
        row_direction=(0.0, 1.0, 0.0),
        column_direction=(0.0, 0.0, -1.0),
        spacing=(0.5, 0.5),
        shape=(320, 320),
    )
    result = assign_levels(spine.corners(), [AxialPlane(9, geom, 3.0)])
    assert result.assignments == ()


def test_an_image_must_reach_the_canal_behind_the_disc():
    """The field of view must show the disc's posterior margin (a disc height of slack), not
    necessarily the disc centre: a small cord-centred image still takes its level."""
    spine = Spine(np.eye(3))
    s = spine.disc_s()["C4/5"]  # disc height 6 mm
    full = plane_through(spine, 1, s)
    g = full.geometry

    def square(image_id: int, centre: np.ndarray, half_mm: float) -> AxialPlane:
        ipp = (
            centre
            - half_mm * np.asarray(g.row_direction)
            - half_mm * np.asarray(g.column_direction)
        )
        n = int(2 * half_mm / 0.5)
        geom = SliceGeometry(
            image_position=(float(ipp[0]), float(ipp[1]), float(ipp[2])),
            row_direction=g.row_direction,
            column_direction=g.column_direction,
            spacing=(0.5, 0.5),
            shape=(n, n),
        )
        return AxialPlane(image_id, geom, 3.0)

    behind = spine.point(s, DEPTH_MM + 8.0)  # the cord, 8 mm behind the disc
    assert assigned(assign_levels(spine.corners(), [square(1, behind, 5.0)])) == {1: "C4/5"}
    far = spine.point(s, DEPTH_MM + 20.0)  # 20 mm behind: 15 mm from the margin, > 5 + 6
    assert assign_levels(spine.corners(), [square(2, far, 5.0)]).assignments == ()
    front = spine.point(s, -30.0)  # in front of the vertebral body
    assert assign_levels(spine.corners(), [square(3, front, 5.0)]).assignments == ()
    plane = plane_through(spine, 1, spine.disc_s()["C4/5"], shape=None)  # size unknown: kept
    assert assigned(assign_levels(spine.corners(), [plane])) == {1: "C4/5"}


def test_pixel_to_patient_is_the_dicom_formula_with_labelme_half_pixels():
    rot = rotation((0.2, -0.4, 0.9), 31.0)
    row, col = rot @ np.array([1.0, 0, 0]), rot @ np.array([0, 1.0, 0])
    geom = slice_geometry(
        image_position=[10.0, -4.0, 7.5],
        row_direction=list(row),
        column_direction=list(col),
        spacing=(0.6, 0.45),
    )
    assert isinstance(geom, SliceGeometry)
    x, y = 12.5, 40.5  # pixel centre of column 12, row 40
    expected = np.array([10.0, -4.0, 7.5]) + 12 * 0.45 * row + 40 * 0.6 * col
    assert geom.to_patient(x, y) == pytest.approx(expected)
    assert geom.normal == pytest.approx(np.cross(row, col))


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"row_direction": []}, "no orientation"),
        ({"column_direction": [0, 0]}, "no orientation"),
        ({"image_position": []}, "no patient position"),
        ({"row_direction": [1, 0, 0], "column_direction": [0.5, 0.5, 0]}, "not orthonormal"),
        ({"spacing": (0.0, 1.0)}, "pixel spacing"),
    ],
)
def test_missing_geometry_is_reported_not_raised(kwargs: dict[str, object], reason: str):
    base: dict[str, object] = {
        "image_position": [0, 0, 0],
        "row_direction": [1, 0, 0],
        "column_direction": [0, 1, 0],
        "spacing": (1.0, 1.0),
    }
    out = slice_geometry(**{**base, **kwargs})  # type: ignore[arg-type]
    assert isinstance(out, str)
    assert reason in out


@pytest.mark.parametrize("spec", DEMO_PHANTOMS, ids=lambda s: f"seed{s.seed}")
def test_phantom_axial_slices_get_the_phantom_s_disc_levels(spec):
    """The phantom draws one axial slice per disc level C2/3..C7/T1 (plus its compression
    level), placed where the disc crosses the cord (a few mm from the disc centre when the
    spine is tilted): the corners of its sagittal truth must name each of those slices."""
    ph = make_phantom(spec)
    sag = ph.sagittal
    sag_geom = SliceGeometry(
        image_position=sag.slice_positions[ph.sagittal_truth.mid_index],
        row_direction=sag.row_direction,
        column_direction=sag.column_direction,
        spacing=sag.pixel_spacing,
    )
    corners = {k: list(sag_geom.to_patient(*xy)) for k, xy in ph.sagittal_truth.keypoints.items()}
    ax = ph.axial
    # As ingest stores it: the median gap between slice positions along the normal.
    normal = np.cross(ax.row_direction, ax.column_direction)
    spacing = float(np.median(np.diff(sorted(np.dot(ax.slice_positions, normal)))))
    planes = [
        AxialPlane(
            i,
            SliceGeometry(
                image_position=pos,
                row_direction=ax.row_direction,
                column_direction=ax.column_direction,
                spacing=ax.pixel_spacing,
                shape=ax.pixels.shape[1:],
            ),
            spacing,
        )
        for i, pos in enumerate(ax.slice_positions)
    ]
    result = assign_levels(corners, planes)
    truth = {
        i: name.replace("/C", "/")
        for i, name in enumerate(ph.axial_truth.level_names)
        if "/" in name
    }
    assert assigned(result) == truth
