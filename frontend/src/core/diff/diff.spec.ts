import { describe, expect, it } from "vitest";
import type { Point, Shape, ShapesByImage } from "../../contract/types";
import { diffRevisions, displacementMm, type Spacing } from "./index";

function shape(label: string, shapeType: Shape["shape_type"], points: Point[], mask?: string): Shape {
  return {
    label,
    shape_type: shapeType,
    points,
    group_id: null,
    description: "",
    flags: {},
    ...(mask === undefined ? {} : { mask }),
  };
}

const square = (label: string, x: number, y: number): Shape =>
  shape(label, "polygon", [
    [x, y],
    [x + 10, y],
    [x + 10, y + 10],
    [x, y + 10],
  ]);

const iso: Spacing = [1, 1];
const spacing = (value: Spacing | null) => () => value;

describe("displacementMm", () => {
  it("takes the largest point-to-point distance when the point counts match", () => {
    expect(
      displacementMm(
        [
          [0, 0],
          [10, 0],
        ],
        [
          [3, 4],
          [10, 1],
        ],
        iso,
      ),
    ).toBe(5);
  });

  it("scales x by the column spacing and y by the row spacing", () => {
    // 3 px right at 0.5 mm per column, 4 px down at 2 mm per row: hypot(1.5, 8).
    expect(displacementMm([[0, 0]], [[3, 4]], [2, 0.5])).toBeCloseTo(Math.hypot(1.5, 8), 12);
  });

  it("falls back to the symmetric Hausdorff distance between vertex sets of other sizes", () => {
    const before: Point[] = [
      [0, 0],
      [10, 0],
      [10, 10],
    ];
    const after: Point[] = [
      [0, 0],
      [10, 0],
      [10, 10],
      [0, 16],
    ];
    // The new vertex (0,16) is nearest to the old (10,10): hypot(10, 6); the rest stayed.
    expect(displacementMm(before, after, iso)).toBeCloseTo(Math.hypot(10, 6), 12);
  });
});

describe("diffRevisions", () => {
  it("reports added, removed, moved and unchanged shapes per image", () => {
    const before: ShapesByImage = {
      "7": [square("cord", 0, 0), square("canal", 20, 20), shape("C3_AS", "point", [[5, 5]])],
    };
    const after: ShapesByImage = {
      "7": [square("cord", 0, 0), shape("C3_AS", "point", [[8, 9]]), shape("C3_AI", "point", [[1, 1]])],
      "8": [square("cord", 3, 3)],
    };
    const diff = diffRevisions(before, after, spacing(iso));
    expect([diff.added, diff.removed, diff.moved, diff.unchanged]).toEqual([2, 1, 1, 1]);
    const byKind = (kind: string) => diff.changes.filter((c) => c.kind === kind).map((c) => `${c.image}:${c.label}`);
    expect(byKind("added").sort()).toEqual(["7:C3_AI", "8:cord"]);
    expect(byKind("removed")).toEqual(["7:canal"]);
    expect(byKind("moved")).toEqual(["7:C3_AS"]);
    expect(diff.largest?.label).toBe("C3_AS");
    expect(diff.largest?.displacementMm).toBe(5);
  });

  it("names the shape with the largest displacement in mm across images", () => {
    const before: ShapesByImage = { "1": [square("cord", 0, 0)], "2": [square("canal", 0, 0)] };
    const after: ShapesByImage = { "1": [square("cord", 1, 0)], "2": [square("canal", 0, 2)] };
    const spacings: Record<string, Spacing> = { "1": [1, 3], "2": [0.5, 0.5] };
    const diff = diffRevisions(before, after, (image) => spacings[image]);
    // cord: 1 px across at 3 mm per column = 3 mm; canal: 2 px down at 0.5 mm = 1 mm.
    expect(diff.largest?.label).toBe("cord");
    expect(diff.largest?.displacementMm).toBe(3);
    expect(diff.changes.find((c) => c.label === "canal")?.displacementMm).toBe(1);
  });

  it("pairs several shapes of one label by nearest centroid, so one moved marker is one move", () => {
    const markers = (xs: number[]) => xs.map((x) => shape("marker", "point", [[x, 0]]));
    const diff = diffRevisions({ "1": markers([0, 50, 100]) }, { "1": markers([100, 0, 52]) }, spacing(iso));
    expect([diff.moved, diff.unchanged, diff.added, diff.removed]).toEqual([1, 2, 0, 0]);
    expect(diff.largest?.displacementMm).toBe(2);
  });

  it("counts a changed mask with the same box as moved, by zero mm", () => {
    const box: Point[] = [
      [0, 0],
      [4, 4],
    ];
    const diff = diffRevisions(
      { "1": [shape("cord", "mask", box, "AAA")] },
      { "1": [shape("cord", "mask", box, "AAB")] },
      spacing(iso),
    );
    expect(diff.moved).toBe(1);
    expect(diff.largest?.displacementMm).toBe(0);
  });

  it("keeps a shape whose label changed apart: removed under the old, added under the new", () => {
    const diff = diffRevisions({ "1": [square("cord", 0, 0)] }, { "1": [square("canal", 0, 0)] }, spacing(iso));
    expect([diff.added, diff.removed, diff.moved]).toEqual([1, 1, 0]);
  });

  it("reports moves without a distance when the image's spacing is unknown", () => {
    const diff = diffRevisions({ "1": [square("cord", 0, 0)] }, { "1": [square("cord", 5, 0)] }, spacing(null));
    expect(diff.moved).toBe(1);
    expect(diff.changes[0].displacementMm).toBeNull();
    expect(diff.largest).toBeNull();
  });

  it("finds nothing between a revision and itself", () => {
    const shapes: ShapesByImage = { "1": [square("cord", 0, 0), shape("C3_AS", "point", [[1, 2]])] };
    const diff = diffRevisions(shapes, shapes, spacing(iso));
    expect([diff.added, diff.removed, diff.moved, diff.unchanged]).toEqual([0, 0, 0, 2]);
    expect(diff.largest).toBeNull();
  });
});
