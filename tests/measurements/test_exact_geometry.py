"""Geometry primitives against independent references: shapely, OpenCV, skimage, brute force."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import shapely
from skimage.draw import polygon2mask

from measurements.core.errors import InvalidInput
from measurements.core.geometry import (
    closest_runs,
    convex_hull,
    mask_boundary,
    min_area_rectangle,
    min_caliper,
    polygon_boundary,
    px_to_mm,
    rasterize_polygon,
    shoelace_area,
)
from measurements.core.regions import Region, decode_labelme_mask, encode_labelme_mask


def _random_polygon(
    rng: np.random.Generator,
    n: int = 12,
    centre: tuple[float, float] = (40.0, 30.0),
    radius: float = 15.0,
) -> np.ndarray:
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(0.4, 1.0, n) * radius
    return np.stack(
        [centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)], axis=1
    )


def _shapely_runs(
    geom: shapely.Geometry, origin: np.ndarray, direction: np.ndarray, reach: float = 1000.0
) -> list[tuple[float, float]]:
    """Inside intervals (t0, t1) of a line through `geom`, from shapely."""
    line = shapely.LineString([origin - reach * direction, origin + reach * direction])
    inter = shapely.intersection(geom, line)
    runs = []
    for part in getattr(inter, "geoms", [inter]):
        if part.is_empty or part.length == 0:
            continue
        coords = np.asarray(part.coords)
        t = (coords - origin) @ direction
        runs.append((t.min(), t.max()))
    return sorted(runs)


def _nearest(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return min(runs, key=lambda r: 0.0 if r[0] <= 0 <= r[1] else min(abs(r[0]), abs(r[1])))


def test_shoelace_area_is_exact_far_from_the_origin():
    square = np.array([[0, 0], [3, 0], [3, 2], [0, 2]], float) + 1e7
    assert shoelace_area(square) == 6.0
    assert shoelace_area(square[::-1]) == 6.0


def test_pixel_to_mm_uses_column_spacing_for_x_and_row_spacing_for_y():
    assert px_to_mm([[2.0, 3.0]], (0.5, 0.25)).tolist() == [[0.5, 1.5]]


def test_polygon_chords_match_shapely():
    rng = np.random.default_rng(3)
    for _ in range(20):
        poly = _random_polygon(rng)
        geom = shapely.Polygon(poly)
        origins = rng.uniform(25, 55, (30, 2))
        angles = rng.uniform(0, np.pi, 30)
        dirs = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        t0, t1 = closest_runs(polygon_boundary(poly), origins, dirs)
        for i in range(30):
            runs = _shapely_runs(geom, origins[i], dirs[i])
            if not runs:
                assert math.isnan(t0[i])
                continue
            a, b = _nearest(runs)
            assert t0[i] == pytest.approx(a, abs=1e-9)
            assert t1[i] == pytest.approx(b, abs=1e-9)


def test_mask_chords_run_across_whole_pixel_squares():
    rng = np.random.default_rng(5)
    mask = rng.random((20, 24)) < 0.55
    mask[8:12, :] = True
    origin = (3, 5)
    squares = shapely.union_all(
        [
            shapely.box(c + origin[1], r + origin[0], c + origin[1] + 1, r + origin[0] + 1)
            for r, c in zip(*np.nonzero(mask), strict=True)
        ]
    )
    boundary = mask_boundary(mask, origin)
    origins = rng.uniform([6, 4], [28, 24], (60, 2))
    angles = rng.uniform(0, np.pi, 60)
    dirs = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    t0, t1 = closest_runs(boundary, origins, dirs)
    for i in range(60):
        runs = _shapely_runs(squares, origins[i], dirs[i])
        # shapely splits a run where it crosses a shared corner; merge touching pieces.
        merged: list[list[float]] = []
        for a, b in runs:
            if merged and a - merged[-1][1] < 1e-9:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        if not merged:
            assert math.isnan(t0[i])
            continue
        a, b = _nearest([(m[0], m[1]) for m in merged])
        assert t0[i] == pytest.approx(a, abs=1e-9)
        assert t1[i] == pytest.approx(b, abs=1e-9)


def test_a_line_through_vertices_and_along_edges_is_counted_once():
    square = np.array([[0, 0], [4, 0], [4, 4], [0, 4]], float)
    b = polygon_boundary(square)
    # The diagonal passes through two vertices; a horizontal line runs along an edge.
    origins = np.array([[2.0, 2.0], [2.0, 0.0], [2.0, 2.0]])
    dirs = np.array([[1, 1] / np.sqrt(2), [1.0, 0.0], [0.0, 1.0]])
    t0, t1 = closest_runs(b, origins, dirs)
    assert t1[0] - t0[0] == pytest.approx(4 * math.sqrt(2))
    assert t1[2] - t0[2] == pytest.approx(4.0)
    # Along the edge: the exact answer for a line shifted infinitesimally inside or outside.
    assert math.isnan(t0[1]) or t1[1] - t0[1] == pytest.approx(4.0)


def test_rasterisation_takes_the_pixels_whose_centres_are_inside():
    rng = np.random.default_rng(7)
    for _ in range(20):
        poly = _random_polygon(rng, centre=(30.3, 25.7), radius=18.0)
        ours = rasterize_polygon(poly, (50, 64))
        # skimage puts pixel centres on integer coordinates: shift by half a pixel.
        ref = polygon2mask((50, 64), poly[:, ::-1] - 0.5)  # type: ignore[no-untyped-call]
        assert (ours != ref).sum() == 0


def test_a_mask_region_rasterises_to_its_own_pixels_clipped_to_the_image():
    mask = np.ones((4, 5), bool)
    out = Region.from_mask(mask, origin=(-1, 8)).rasterize((6, 10))
    assert out.sum() == 3 * 2
    assert out[0:3, 8:10].all()


def test_minimum_area_rectangle_matches_opencv():
    rng = np.random.default_rng(11)
    for _ in range(30):
        pts = rng.normal(size=(25, 2)) * rng.uniform(1, 6, 2) + rng.uniform(-5, 5, 2)
        hull = convex_hull(pts)
        rect = min_area_rectangle(hull)
        (_, _), (w, h), _ = cv2.minAreaRect(pts.astype(np.float32))
        assert rect.long_side == pytest.approx(max(w, h), rel=1e-4)
        assert rect.short_side == pytest.approx(min(w, h), rel=1e-4)
        corners = np.array(rect.corners)
        edges = np.roll(corners, -1, axis=0) - corners
        dots = np.einsum("ij,ij->i", edges, np.roll(edges, -1, axis=0))
        assert np.abs(dots).max() < 1e-9  # right angles
        assert shoelace_area(corners) == pytest.approx(rect.long_side * rect.short_side)


def test_minimum_caliper_is_the_smallest_width_over_all_directions():
    rng = np.random.default_rng(13)
    angles = np.linspace(0, np.pi, 20000, endpoint=False)
    dirs = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    for _ in range(20):
        pts = rng.normal(size=(30, 2)) * rng.uniform(1, 6, 2)
        hull = convex_hull(pts)
        cal = min_caliper(hull)
        proj = hull @ dirs.T
        brute = (proj.max(axis=0) - proj.min(axis=0)).min()
        # Sampled directions can only overestimate the minimum.
        assert brute - 2e-3 <= cal.width <= brute + 1e-12
        chord = np.subtract(cal.end, cal.start)
        assert math.hypot(*chord) == pytest.approx(cal.width, abs=1e-9)
        # ... and the caliper's direction really has that width: it is attained.
        spread = hull @ (chord / cal.width)
        assert spread.max() - spread.min() == pytest.approx(cal.width, abs=1e-9)


def test_labelme_mask_shapes_round_trip():
    mask = np.zeros((7, 9), bool)
    mask[2:5, 1:8] = True
    mask[0, 0] = True
    fields = encode_labelme_mask(mask, origin=(10, 20))
    region = decode_labelme_mask(fields["mask"], fields["points"])
    placed = np.zeros((30, 40), bool)
    placed[10:17, 20:29] = mask
    assert np.array_equal(region.rasterize((30, 40)), placed)
    assert region.pixel_count == mask.sum()


def test_a_mask_whose_png_does_not_fit_its_box_is_rejected():
    fields = encode_labelme_mask(np.ones((3, 3), bool))
    with pytest.raises(InvalidInput, match="bounding box"):
        decode_labelme_mask(fields["mask"], [[0, 0], [9, 9]])
    with pytest.raises(InvalidInput, match="PNG"):
        decode_labelme_mask("bm90IGEgcG5n", [[0, 0], [2, 2]])


@pytest.mark.parametrize(
    "points", [[[0, 0], [1, 1]], [[0, 0], [1, 1], [2, 2]], [[0, 0], [1, float("nan")], [2, 0]]]
)
def test_degenerate_polygons_are_rejected(points):
    with pytest.raises(InvalidInput):
        Region.from_polygon(points)
