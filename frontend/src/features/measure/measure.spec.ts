import { describe, expect, it } from "vitest";
import { testSeries as series } from "../../contract/testSeries";
import type { MeasurementResult } from "../../contract/types";
import {
  formatNumber,
  groupValues,
  imageLabel,
  imageOrder,
  imagesLabel,
  mergeResults,
  missingHint,
  percentOf,
  sliceRanges,
} from "./layout";

// Values as measurements/core/case.py returns them for the phantom's truth (both references).
const SAGITTAL = {
  d_i: 5.2,
  d_a: 8.0,
  d_b: 8.0,
  D_i: 9.8,
  D_a: 14.0,
  D_b: 14.0,
  mscc: 0.35,
  mcc: 0.3,
  mscc_percent: 35.0,
  mcc_percent: 30.0,
  d_i_level: "C5",
  D_i_level: "C4/C5",
  d_i_position_mm: 44.9,
  D_i_position_mm: 40.1,
  adjacent_mscc: 0.33,
  adjacent_mcc: 0.28,
  adjacent_d_a: 7.9,
  adjacent_d_b: 7.6,
  adjacent_D_a: 13.8,
  adjacent_D_b: 13.4,
  adjacent_mscc_percent: 33.0,
  adjacent_mcc_percent: 28.0,
  manual_d_i: 5.0,
  manual_d_a: 8.1,
  manual_d_b: 7.9,
  manual_mscc: 0.375,
  manual_mscc_percent: 37.5,
  manual_mcc: null,
  manual_mcc_percent: null,
};
const AXIAL = {
  ta: 49.0,
  transverse: 12.0,
  ap: 5.2,
  cr: 0.4333,
  ta_kind: "polygon",
  sct_area: 49.0,
  sct_diameter_AP: 5.15,
  sct_diameter_RL: 12.0,
  sct_eccentricity: 0.9,
  sct_solidity: 1.0,
  sct_orientation: 0,
  sas_area: 153.9,
  cord_sas_ratio: 0.318,
  sas_transverse: 20.0,
  sas_ap: 9.8,
  manual_T: 12.1,
  manual_S: 5.3,
  manual_cr: 0.438,
};

describe("groupValues", () => {
  it("lists the seed 003 values first, then the other reference, then the manual calipers", () => {
    const groups = groupValues(SAGITTAL, "sagittal", "C3C7");
    expect(groups.map((g) => g.id)).toEqual(["main", "reference", "manual"]);
    expect(groups.map((g) => g.folded)).toEqual([false, false, false]);
    const [main, ref, manual] = groups;
    expect(main?.title).toBe("Seed 003 · reference C3 / C7");
    expect(main?.rows.map((r) => r.key)).toEqual(["mscc", "mcc", "d_i", "d_a", "d_b", "D_i", "D_a", "D_b"]);
    expect(ref?.title).toBe("Adjacent reference (SCT)");
    expect(ref?.rows.map((r) => r.key)).toEqual([
      "adjacent_mscc",
      "adjacent_mcc",
      "adjacent_d_a",
      "adjacent_d_b",
      "adjacent_D_a",
      "adjacent_D_b",
    ]);
    expect(manual?.rows.map((r) => r.key)).toEqual([
      "manual_mscc",
      "manual_mcc",
      "manual_d_i",
      "manual_d_a",
      "manual_d_b",
    ]);
  });

  it("shows MSCC and MCC as a percentage with the fraction beside it, widths in mm with their level", () => {
    const main = groupValues(SAGITTAL, "sagittal")[0];
    const byKey = new Map(main?.rows.map((r) => [r.key, r]));
    expect(byKey.get("mscc")).toMatchObject({ value: "35.0 %", detail: "0.350", hl: true });
    expect(byKey.get("mcc")).toMatchObject({ value: "30.0 %", detail: "0.300" });
    expect(byKey.get("d_i")).toMatchObject({ value: "5.200 mm", detail: "C5" });
    expect(byKey.get("d_i")?.title).toContain("44.9 mm");
    expect(byKey.get("D_i")).toMatchObject({ value: "9.800 mm", detail: "C4/C5" });
    expect(byKey.get("D_a")).toMatchObject({ value: "14.00 mm", detail: "" });
    const manual = groupValues(SAGITTAL, "sagittal")[2];
    expect(manual?.rows.find((r) => r.key === "manual_mcc")?.value).toBe("—");
  });

  it("folds the SCT shape metrics and the morphometry of an axial slice, units included", () => {
    const groups = groupValues(AXIAL, "axial");
    expect(groups.map((g) => [g.id, g.folded])).toEqual([
      ["main", false],
      ["manual", false],
      ["sct", true],
      ["morphometry", true],
    ]);
    const rows = new Map(groups.flatMap((g) => g.rows).map((r) => [r.key, r]));
    expect(rows.get("ta")?.value).toBe("49.00 mm²");
    expect(rows.get("ta")?.title).toContain("polygon area");
    expect(rows.get("cr")?.value).toBe("0.433");
    expect(rows.get("sct_orientation")?.value).toBe("0.000 °");
    expect(rows.get("sas_area")?.value).toBe("153.9 mm²");
    expect(rows.has("ta_kind")).toBe(false);
  });

  it("keeps values it does not know in a folded group of their own", () => {
    const groups = groupValues({ ta: 50, novel_metric: 3 }, "axial");
    expect(groups.at(-1)).toMatchObject({ id: "other", folded: true, rows: [{ key: "novel_metric", value: "3.000" }] });
  });

  it("names the adjacent reference when it is the one chosen", () => {
    const groups = groupValues(
      { mscc: 0.2, mscc_percent: 20, c3c7_mscc: 0.25, c3c7_mscc_percent: 25 },
      "sagittal",
      "adjacent",
    );
    expect(groups.map((g) => g.title)).toEqual(["Seed 003 · reference adjacent (SCT)", "C3 / C7 reference"]);
    expect(groups[1]?.rows[0]).toMatchObject({ key: "c3c7_mscc", value: "25.0 %" });
  });
});

describe("values", () => {
  it("prefers the server's percentage and falls back to the fraction", () => {
    expect(percentOf({ mscc: 0.35, mscc_percent: 35 }, "mscc")).toBe(35);
    expect(percentOf({ mcc: 0.3 }, "mcc")).toBeCloseTo(30);
    expect(percentOf({ mcc: null }, "mcc")).toBeNull();
    expect(formatNumber(null, "mm")).toBe("—");
    expect(formatNumber(123.456, "mm²")).toBe("123.5 mm²");
  });
});

describe("imageLabel", () => {
  const all = [series(1, "sagittal", [11, 12, 13]), series(2, "axial", [21, 22])];

  it("names the series and the slice instead of the image id", () => {
    expect(imageLabel(all, 12)).toBe("sagittal · slice 2/3");
    expect(imageLabel(all, "22")).toBe("axial · slice 2/2");
    expect(imageLabel(all, 99)).toBe("image 99");
  });

  it("tells two series of the same orientation apart", () => {
    const two = [series(1, "axial", [1], "T2 C3-C4"), series(2, "axial", [2], "T2 C5-C6")];
    expect(imageLabel(two, 2)).toBe("axial T2 C5-C6 · slice 1/1");
    expect(imageOrder(all, 21)).toBeGreaterThan(imageOrder(all, 13));
  });
});

describe("missingHint", () => {
  it("says what to place or draw, and for which measurement", () => {
    expect(missingHint("keypoints C5_PS, C5_PI", "sagittal")).toBe("Place C5_PS and C5_PI to measure MSCC and MCC");
    expect(missingHint("keypoints C3_PS, C3_PI, C4_PS, C4_PI, C5_PS, C5_PI", "sagittal")).toBe(
      "Place C3_PS, C3_PI, C4_PS, C4_PI and 2 more to measure MSCC and MCC",
    );
    expect(missingHint("caliper d_b (for MSCC)", "sagittal")).toBe("Draw caliper d_b to complete the manual MSCC");
    expect(missingHint("cord", "axial")).toBe("Draw the cord to measure TA and CR");
    expect(missingHint("canal", "sagittal")).toBe("Draw the canal to measure MCC");
    expect(missingHint("pixel spacing", "axial")).toContain("unknown");
    expect(missingHint("something new", "axial")).toBe("Missing: something new");
  });
});

describe("mergeResults", () => {
  const hint = (image: number, missing = ["keypoints C3_PS"]): MeasurementResult => ({
    image,
    view: "sagittal",
    values: {},
    chords: [],
    warnings: [],
    missing,
  });
  const all = [series(1, "sagittal", [11, 12, 13, 14, 15]), series(2, "axial", [21, 22])];

  it("shows the images that only lack the same inputs as one block, and every measured image on its own", () => {
    const measured: MeasurementResult = {
      image: 13,
      view: "sagittal",
      values: { mscc: 0.2 },
      chords: [],
      warnings: [],
      missing: [],
    };
    const blocks = mergeResults([hint(11), hint(12), measured, hint(14), hint(15, ["cord"])]);
    expect(blocks.map((b) => b.images)).toEqual([[11, 12, 14], [13], [15]]);
    expect(imagesLabel(all, blocks[0]?.images ?? [])).toBe("sagittal · slices 1–2, 4 of 5");
    expect(imagesLabel(all, [13])).toBe("sagittal · slice 3/5");
    expect(imagesLabel(all, [11, 21])).toBe("2 images");
  });

  it("writes slice numbers as ranges", () => {
    expect(sliceRanges([5, 1, 2, 3, 9, 8])).toBe("1–3, 5, 8–9");
    expect(sliceRanges([4])).toBe("4");
    expect(sliceRanges([])).toBe("");
  });
});
