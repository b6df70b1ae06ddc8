import { describe, expect, it } from "vitest";
import type { KeypointSetDef, Point, Shape } from "../../contract/types";
import { keypointSlice, keypointWarnings, nextKeypoint } from "./index";

const levels = ["C3", "C4", "C5", "C6", "C7"];
const set: KeypointSetDef = {
  name: "vertebral_corners",
  view: "sagittal",
  points: levels.flatMap((l) => ["AS", "AI", "PS", "PI"].map((c) => `${l}_${c}`)),
};

const pt = (label: string, p: Point): Shape => ({
  label,
  points: [p],
  group_id: null,
  description: "",
  shape_type: "point",
  flags: {},
});

/** A plausible spine: anterior left (x 100), posterior right (x 130), vertebrae 40 px apart. */
function spine(): Shape[] {
  return levels.flatMap((l, i) => [
    pt(`${l}_AS`, [100, 20 + 40 * i]),
    pt(`${l}_AI`, [100, 50 + 40 * i]),
    pt(`${l}_PS`, [130, 20 + 40 * i]),
    pt(`${l}_PI`, [130, 50 + 40 * i]),
  ]);
}

const move = (shapes: Shape[], label: string, p: Point) => shapes.map((s) => (s.label === label ? pt(label, p) : s));

describe("guided order", () => {
  it("names the first unplaced point of the set's order", () => {
    expect(nextKeypoint(set, [])).toBe("C3_AS");
    expect(nextKeypoint(set, [pt("C3_AS", [1, 1]), pt("C3_PS", [2, 2])])).toBe("C3_AI");
    expect(nextKeypoint(set, spine())).toBeNull();
    expect(
      nextKeypoint(
        set,
        spine().filter((s) => s.label !== "C6_PI"),
      ),
    ).toBe("C6_PI");
  });
});

describe("plausibility", () => {
  it("has no warning for a plausible spine, nor for a mirrored one", () => {
    expect(keypointWarnings(set, spine())).toEqual([]);
    const mirrored = spine().map((s) => pt(s.label, [300 - s.points[0][0], s.points[0][1]]));
    expect(keypointWarnings(set, mirrored)).toEqual([]);
  });

  it("warns when a superior corner lies below the inferior one", () => {
    const w = keypointWarnings(set, move(spine(), "C4_PS", [130, 95]));
    expect(w.map((x) => x.message)).toContain("C4_PS should lie above C4_PI");
  });

  it("warns when one vertebra's posterior corners lie in front", () => {
    let s = move(spine(), "C5_PS", [80, 100]);
    s = move(s, "C5_PI", [80, 130]);
    const w = keypointWarnings(set, s);
    expect(w).toHaveLength(1);
    expect(w[0]?.message).toMatch(/C5: posterior/);
    expect(w[0]?.names).toContain("C5_PI");
  });

  it("warns when vertebrae are out of order", () => {
    const swapped = spine().map((s) => {
      const [l, c] = s.label.split("_");
      const other = l === "C6" ? "C7" : l === "C7" ? "C6" : l;
      const src = spine().find((x) => x.label === `${other}_${c}`)!;
      return pt(s.label, src.points[0]);
    });
    const msgs = keypointWarnings(set, swapped).map((w) => w.message);
    expect(msgs).toContain("C7 should lie below C6");
  });

  it("judges only what is placed", () => {
    expect(keypointWarnings(set, [pt("C3_AS", [100, 20])])).toEqual([]);
  });
});

describe("keypointSlice", () => {
  const images = [10, 11, 12, 13, 14].map((id) => ({ id }));
  const pt = (label: string): Shape => ({
    label,
    points: [[1, 2]],
    shape_type: "point",
    group_id: null,
    description: "",
    flags: {},
  });
  const cord: Shape = {
    label: "cord",
    points: [
      [0, 0],
      [4, 0],
      [4, 4],
    ],
    shape_type: "polygon",
    group_id: null,
    description: "",
    flags: {},
  };
  const on = (shapes: Record<number, Shape[]>) => (id: number) => shapes[id] ?? [];

  it("opens on the slice with the most corners, not the middle one", () => {
    const shapes = on({ 11: [pt("C3_AS"), pt("C3_AI"), cord], 12: [cord], 13: [pt("C4_AS")] });
    expect(keypointSlice(images, 2, shapes)).toBe(1);
  });
  it("breaks a tie towards the slice shown now", () => {
    expect(keypointSlice(images, 3, on({ 10: [pt("C3_AS")], 13: [pt("C3_AS")] }))).toBe(3);
  });
  it("gives null when no slice has a point (outlines only)", () => {
    expect(keypointSlice(images, 2, on({ 12: [cord] }))).toBeNull();
  });
});
