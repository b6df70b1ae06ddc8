import { describe, expect, it } from "vitest";
import type { Point, Shape } from "../../contract/types";
import {
  deleteVertex,
  distinctPointCount,
  fitTransform,
  formatMm,
  hitTest,
  imageToScreen,
  insertVertex,
  lengthMm,
  pointInPolygon,
  polygonArea,
  polygonAreaMm2,
  screenToImage,
  zoomAt,
} from "./index";

const square: Point[] = [
  [0, 0],
  [10, 0],
  [10, 10],
  [0, 10],
];

const shape = (shape_type: Shape["shape_type"], points: Point[], label = "x"): Shape => ({
  label,
  points,
  group_id: null,
  description: "",
  shape_type,
  flags: {},
});

describe("polygon", () => {
  it("computes the shoelace area regardless of winding", () => {
    expect(polygonArea(square)).toBe(100);
    expect(polygonArea(square.slice().reverse())).toBe(100);
    expect(
      polygonArea([
        [0, 0],
        [4, 0],
        [0, 3],
      ]),
    ).toBe(6);
  });

  it("scales the area by both spacings", () => {
    expect(polygonAreaMm2(square, 0.5, 2)).toBe(100);
  });

  it("tests points inside and outside a concave polygon", () => {
    const l: Point[] = [
      [0, 0],
      [10, 0],
      [10, 2],
      [2, 2],
      [2, 10],
      [0, 10],
    ];
    expect(pointInPolygon([1, 5], l)).toBe(true);
    expect(pointInPolygon([5, 5], l)).toBe(false);
    expect(pointInPolygon([5, 1], l)).toBe(true);
  });

  it("counts distinct points", () => {
    expect(
      distinctPointCount([
        [1, 1],
        [1, 1],
        [2, 2],
      ]),
    ).toBe(2);
  });

  it("inserts a vertex on an edge and deletes one within the minimum", () => {
    const withMid = insertVertex(square, 0, [5, 0]);
    expect(withMid).toEqual([
      [0, 0],
      [5, 0],
      [10, 0],
      [10, 10],
      [0, 10],
    ]);
    expect(square).toHaveLength(4);
    expect(deleteVertex(withMid, 1, 3)).toEqual(square);
    expect(
      deleteVertex(
        [
          [0, 0],
          [1, 0],
          [0, 1],
        ],
        0,
        3,
      ),
    ).toBeNull();
    expect(() => insertVertex(square, 7, [0, 0])).toThrow(/no edge/);
  });
});

describe("caliper", () => {
  it("measures length in mm with anisotropic spacing", () => {
    // 3 columns at 1 mm and 4 rows at 0.5 mm: sqrt(3² + 2²)
    expect(lengthMm([0, 0], [3, 4], 0.5, 1)).toBeCloseTo(Math.sqrt(13));
    expect(lengthMm([0, 0], [0, 10], 0.8, 0.4)).toBeCloseTo(8);
    expect(formatMm(3.14159)).toBe("3.14 mm");
    expect(formatMm(31.4159)).toBe("31.4 mm");
  });
});

describe("transform", () => {
  it("fits an anisotropic image at its physical aspect ratio, centred", () => {
    // 100 columns × 100 rows, rows twice as tall as columns: 100 mm wide, 200 mm high
    const t = fitTransform({ viewW: 400, viewH: 400, columns: 100, rows: 100, spacingRow: 2, spacingCol: 1 });
    expect(t.zoom).toBe(2);
    const [x0, y0] = imageToScreen(t, [0, 0]);
    const [x1, y1] = imageToScreen(t, [100, 100]);
    expect(y1 - y0).toBe(400);
    expect(x1 - x0).toBe(200);
    expect(x0).toBe(100);
  });

  it("round-trips screen and image coordinates and zooms about the cursor", () => {
    const t = fitTransform({ viewW: 300, viewH: 200, columns: 64, rows: 32, spacingRow: 0.7, spacingCol: 1.3 });
    const p: Point = [12.25, 20.5];
    const back = screenToImage(t, imageToScreen(t, p));
    expect(back[0]).toBeCloseTo(p[0]);
    expect(back[1]).toBeCloseTo(p[1]);
    const s = imageToScreen(t, p);
    const z = zoomAt(t, 2.5, s[0], s[1]);
    const same = screenToImage(z, s);
    expect(same[0]).toBeCloseTo(p[0]);
    expect(same[1]).toBeCloseTo(p[1]);
  });
});

describe("hitTest", () => {
  const id = (p: Point): Point => [p[0] * 10, p[1] * 10];
  const shapes = [
    shape("polygon", square),
    shape("line", [
      [20, 0],
      [20, 10],
    ]),
    shape("point", [[30, 30]]),
  ];

  it("finds a vertex before an edge and an edge before the inside", () => {
    expect(hitTest(shapes, [101, 99], id, { tolerance: 4 })).toMatchObject({ shape: 0, kind: "vertex", index: 2 });
    const e = hitTest(shapes, [50, 2], id, { tolerance: 4 });
    expect(e?.kind).toBe("edge");
    expect(e?.index).toBe(0);
    expect(e?.at).toEqual([50, 0]);
    expect(hitTest(shapes, [50, 50], id, { tolerance: 4 })).toMatchObject({ shape: 0, kind: "inside", index: -1 });
  });

  it("hits lines and points and misses empty space", () => {
    expect(hitTest(shapes, [203, 50], id, { tolerance: 4 })?.shape).toBe(1);
    expect(hitTest(shapes, [302, 298], id, { tolerance: 4 })).toMatchObject({ shape: 2, kind: "vertex", index: 0 });
    expect(hitTest(shapes, [250, 250], id, { tolerance: 4 })).toBeNull();
  });

  it("skips hidden shapes and prefers the topmost", () => {
    const two = [shape("polygon", square, "a"), shape("polygon", square, "b")];
    expect(hitTest(two, [50, 50], id, { tolerance: 4 })?.shape).toBe(1);
    expect(hitTest(two, [50, 50], id, { tolerance: 4, visible: (i) => i === 0 })?.shape).toBe(0);
  });

  it("hit-tests a rectangle given by two corners", () => {
    const r = [
      shape("rectangle", [
        [0, 0],
        [10, 5],
      ]),
    ];
    expect(hitTest(r, [100, 30], id, { tolerance: 3 })?.kind).toBe("edge");
    expect(hitTest(r, [50, 25], id, { tolerance: 3 })?.kind).toBe("inside");
  });
});

import { oppositeLetters, orientationLetters } from "./index";

describe("orientation letters", () => {
  it("names the dominant patient direction of a vector", () => {
    expect(orientationLetters([0, 1, 0])).toBe("P");
    expect(orientationLetters([0, 0, -1])).toBe("I");
    expect(orientationLetters([0.9, 0, 0.4])).toBe("LS");
    expect(orientationLetters(null)).toBe("");
    expect(oppositeLetters("LS")).toBe("RI");
  });
});

import { fitBoxTransform } from "./index";

describe("fitBoxTransform", () => {
  const base = { viewW: 1000, viewH: 800, columns: 512, rows: 512, spacingRow: 0.5, spacingCol: 0.5 };

  it("centres the box and makes it fill three quarters of the tighter side", () => {
    const t = fitBoxTransform({ ...base, box: [200, 100, 260, 400] });
    const a = imageToScreen(t, [200, 100]);
    const b = imageToScreen(t, [260, 400]);
    expect((a[0] + b[0]) / 2).toBeCloseTo(500);
    expect((a[1] + b[1]) / 2).toBeCloseTo(400);
    expect(b[1] - a[1]).toBeCloseTo(600);
  });

  it("never zooms out below the whole image nor in past the cap", () => {
    const whole = fitTransform({ ...base, margin: 8 });
    expect(fitBoxTransform({ ...base, box: [0, 0, 512, 512] }).zoom).toBeCloseTo(whole.zoom);
    expect(fitBoxTransform({ ...base, box: [100, 100, 101, 101] }).zoom).toBeCloseTo(whole.zoom * 6);
  });
});
