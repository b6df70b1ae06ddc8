import { describe, expect, it } from "vitest";
import type { Point, Shape } from "../../contract/types";
import { hitCandidates, hitTest } from "./index";

const shape = (label: string, points: Point[], shape_type: Shape["shape_type"] = "polygon"): Shape => ({
  label,
  points,
  group_id: null,
  description: "",
  shape_type,
  flags: {},
});

// Screen = image × 4: a tolerance of 6 screen pixels is 1.5 image pixels.
const toScreen = (p: Point): Point => [p[0] * 4, p[1] * 4];
const opts = { tolerance: 6 };

// The canal and, drawn after it (on top), the cord: their top vertices overlap at (20, 10).
const canal = shape("canal", [
  [20, 10],
  [30, 10],
  [30, 60],
  [18, 60],
]);
const cord = shape("cord", [
  [20, 10],
  [26, 12],
  [26, 58],
  [21, 58],
]);
const shapes = [canal, cord];

describe("hitCandidates", () => {
  it("lets the selected shape win over a topmost shape at the same vertex", () => {
    expect(hitTest(shapes, [80, 40], toScreen, opts)).toMatchObject({ shape: 1, kind: "vertex", index: 0 });
    const sel = hitTest(shapes, [80, 40], toScreen, { ...opts, selected: new Set([0]) });
    expect(sel).toMatchObject({ shape: 0, kind: "vertex", index: 0 });
  });

  it("picks the nearest vertex across shapes, not the topmost", () => {
    // Next to the canal's bottom-left vertex (72, 240), 13 px from the cord's (84, 232).
    const canalCorner: Point = [18 * 4, 60 * 4];
    const near: Point = [canalCorner[0] + 1, canalCorner[1] - 1];
    expect(hitTest(shapes, near, toScreen, opts)).toMatchObject({ shape: 0, kind: "vertex", index: 3 });
    // Nearer to the cord's bottom-left vertex (84, 232) than to the canal's (72, 240).
    expect(hitTest(shapes, [83, 233], toScreen, opts)).toMatchObject({ shape: 1, kind: "vertex", index: 3 });
  });

  it("prefers an edge clearly nearer than another shape's vertex", () => {
    const a = shape(
      "a",
      [
        [0, 0],
        [10, 0],
      ],
      "line",
    );
    const b = shape(
      "b",
      [
        [5, -2],
        [5, -10],
      ],
      "line",
    );
    // On a's edge (distance 0) and 5.x pixels from b's vertex (20, -8).
    expect(hitTest([a, b], [20, 0], toScreen, opts)).toMatchObject({ shape: 0, kind: "edge" });
    // Equidistant (3 px) from a's edge and b's vertex: the vertex wins.
    expect(hitTest([a, b], [20, -4], toScreen, { tolerance: 6 })).toMatchObject({ shape: 1, kind: "vertex" });
  });

  it("lists every overlapping shape once, best first, for Tab to cycle", () => {
    const list = hitCandidates(shapes, [80, 40], toScreen, opts);
    expect(list.map((h) => [h.shape, h.kind])).toEqual([
      [1, "vertex"],
      [0, "vertex"],
    ]);
    const inside = hitCandidates(shapes, [90, 100], toScreen, opts);
    expect(inside.map((h) => [h.shape, h.kind])).toEqual([
      [1, "inside"],
      [0, "inside"],
    ]);
  });

  it("never hits a locked or hidden shape", () => {
    expect(hitTest(shapes, [80, 40], toScreen, { ...opts, locked: (i) => i === 1 })?.shape).toBe(0);
    expect(
      hitTest(shapes, [80, 40], toScreen, { ...opts, visible: (i) => i === 1, locked: (i) => i === 1 }),
    ).toBeNull();
  });

  it("keeps the selected shape's interior behind other shapes' vertices", () => {
    // Inside the canal (selected) on the cord's vertex: the vertex is what the user aims at.
    const h = hitTest(shapes, [104, 48], toScreen, { ...opts, selected: new Set([0]) });
    expect(h).toMatchObject({ shape: 1, kind: "vertex", index: 1 });
  });

  it("hits a circle's rim and its radius handle", () => {
    const c = shape(
      "c",
      [
        [10, 10],
        [15, 10],
      ],
      "circle",
    );
    expect(hitTest([c], [60, 40], toScreen, opts)).toMatchObject({ kind: "vertex", index: 1 });
    expect(hitTest([c], [40, 61], toScreen, opts)).toMatchObject({ kind: "edge" });
    expect(hitTest([c], [40, 40], toScreen, opts)).toMatchObject({ kind: "inside" });
  });
});

describe("hitCandidates with an affine mapping", () => {
  it("finds the same hits as with the mapping function", () => {
    const affine = { offset: [0, 0] as Point, scale: [4, 4] as Point };
    for (const at of [
      [80, 40],
      [83, 233],
      [104, 48],
      [90, 100],
      [500, 500],
    ] as Point[]) {
      expect(hitCandidates(shapes, at, toScreen, { ...opts, affine })).toEqual(
        hitCandidates(shapes, at, toScreen, opts),
      );
    }
  });
});
