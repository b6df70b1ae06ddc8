import { describe, expect, it } from "vitest";
import type { Suggestion } from "../../core/suggestions";
import { withheldRows } from "./withheld";
import { testSeries as series } from "../../contract/testSeries";

const item = (label: string, image: number): Suggestion => ({
  image,
  label,
  shape_type: "point",
  points: [[1, 2]],
  confidence: 0.42,
  raw_confidence: 0.5,
  threshold: 0.6,
  reason: "",
});

describe("withheldRows", () => {
  it("names each withheld pre-label's series and slice, not its image id", () => {
    const all = [series(1, "sagittal", [11, 12, 13]), series(2, "axial", [21, 22])];
    const rows = withheldRows([item("C5_AI", 12), item("cord", 22)], all);
    expect(rows.map((r) => [r.item.label, r.slice])).toEqual([
      ["C5_AI", "sagittal · slice 2/3"],
      ["cord", "axial · slice 2/2"],
    ]);
  });

  it("tells two series of one orientation apart by their description", () => {
    const two = [series(1, "axial", [1, 2], "T2 C3-C4"), series(2, "axial", [3], "T2 C5-C6")];
    expect(withheldRows([item("cord", 3)], two)[0]?.slice).toBe("axial T2 C5-C6 · slice 1/1");
  });

  it("lists them in series and slice order, those of one slice in the reply's order", () => {
    // Image ids need not follow the slices: here the sagittal series' slices run 30, 20, 10.
    const all = [series(1, "sagittal", [30, 20, 10]), series(2, "axial", [5])];
    const rows = withheldRows([item("cord", 5), item("C3_AS", 10), item("C5_AI", 30), item("C5_AS", 30)], all);
    expect(rows.map((r) => `${r.item.label} ${r.slice}`)).toEqual([
      "C5_AI sagittal · slice 1/3",
      "C5_AS sagittal · slice 1/3",
      "C3_AS sagittal · slice 3/3",
      "cord axial · slice 1/1",
    ]);
  });

  it("keeps a pre-label on an image the case does not list, named by its id, last", () => {
    const rows = withheldRows([item("C3_AS", 99), item("C5_AI", 11)], [series(1, "sagittal", [11])]);
    expect(rows.map((r) => r.slice)).toEqual(["sagittal · slice 1/1", "image 99"]);
  });
});
