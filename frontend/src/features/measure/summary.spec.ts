import { describe, expect, it } from "vitest";
import type { MeasurementResult, SeriesInfo } from "../../contract/types";
import { brief } from "./index";
import { levelOrder, levelSummary } from "./summary";

const axial: SeriesInfo = {
  id: 2,
  description: "",
  orientation: "axial",
  rows: 10,
  columns: 10,
  pixel_spacing: [1, 1],
  slice_thickness: 3,
  slice_spacing: 3,
  dtype: "uint16",
  window: null,
  images: [21, 22, 23].map((id, index) => ({ id, index, position: index * 3 })),
};

function result(image: number, view: string, values: Record<string, unknown>): MeasurementResult {
  return { image, view, values, chords: [], warnings: [] };
}

describe("per-level measurement summary", () => {
  it("puts MSCC at the cord's narrowest level and MCC at the canal's, in spine order", () => {
    const rows = levelSummary(
      [
        result(11, "sagittal", {
          mscc: 0.186,
          d_i: 5.12,
          d_i_level: "C5/6",
          mcc: 0.2,
          D_i: 9.5,
          D_i_level: "C4",
        }),
      ],
      [],
    );
    expect(rows.map((r) => r.level)).toEqual(["C4", "C5/6"]);
    expect(rows[1]?.parts).toEqual(["MSCC 18.6 %", "d_i 5.120 mm"]);
    expect(rows[0]?.parts).toEqual(["MCC 20.0 %", "D_i 9.500 mm"]);
  });
  it("sums the axial slices up as their smallest TA and CR and where", () => {
    const rows = levelSummary(
      [result(21, "axial", { ta: 70.2, cr: 0.61 }), result(23, "axial", { ta: 54.1, cr: 0.42 })],
      [axial],
    );
    expect(rows).toEqual([
      {
        level: "axial · 2 slices",
        parts: ["TA min 54.10 mm² (axial · slice 3/3)", "CR min 0.420 (axial · slice 3/3)"],
        images: [21, 23],
      },
    ]);
  });
  it("has no line for results without values", () => {
    expect(levelSummary([result(21, "axial", {})], [axial])).toEqual([]);
  });
  it("orders levels along the spine", () => {
    expect(["C7/T1", "C3", "C2/3", "C5/6", "C5"].sort((a, b) => levelOrder(a) - levelOrder(b))).toEqual([
      "C2/3",
      "C3",
      "C5",
      "C5/6",
      "C7/T1",
    ]);
  });
  it("folds a block to its main values or says it is incomplete", () => {
    expect(brief(result(21, "axial", { ta: 54.1, cr: 0.42 }))).toBe("TA 54.10 mm² · CR 0.420");
    expect(brief({ ...result(21, "axial", {}), missing: ["cord"] })).toBe("incomplete");
  });
});
