import { describe, expect, it } from "vitest";
import type { PairAgreement, ReadMeasurements, ReviewRead } from "./api";
import { agreementCells, defaultPair, fuseMethods, measurementRows, pairOf } from "./model";

function read(id: number, kind: ReviewRead["kind"] = "human"): ReviewRead {
  return {
    id,
    kind,
    name: `r${id}`,
    author: null,
    head: null,
    revision_count: 1,
    editable: false,
    key: kind,
    colour: "#000000",
    title: kind,
    submitted_at: null,
    revision: null,
    provenance: null,
  };
}

describe("review model", () => {
  it("fuses keypoints by their mean and areas by vote or STAPLE", () => {
    expect(fuseMethods("corners")).toEqual(["mean"]);
    expect(fuseMethods("cord")).toEqual(["majority", "staple"]);
  });

  it("puts each read's MSCC, MCC, level and per-axial-image TA and CR side by side", () => {
    const reads = [read(1), read(2)];
    const measured: ReadMeasurements[] = [
      {
        read: 1,
        revision: 10,
        results: [
          {
            image: 5,
            view: "sagittal",
            values: { mscc_percent: 12.345, mcc_percent: 20, d_i_level: "C4-C5" },
            warnings: [],
            missing: [],
          },
          { image: 9, view: "axial", values: { ta: 60.04, cr: 0.456 }, warnings: [], missing: [] },
        ],
      },
      {
        read: 2,
        revision: 11,
        results: [{ image: 9, view: "axial", values: { ta: 58, cr: null }, warnings: [], missing: [] }],
      },
    ];
    const images = new Map([[9, { id: 9, view: "axial", index: 3 }]]);
    expect(measurementRows(reads, measured, images)).toEqual([
      { label: "MSCC", cells: ["12.3 %", "—"] },
      { label: "MCC", cells: ["20.0 %", "—"] },
      { label: "Level", cells: ["C4-C5", "—"] },
      { label: "TA · axial #4", cells: ["60.0 mm²", "58.0 mm²"] },
      { label: "CR · axial #4", cells: ["0.46", "—"] },
    ]);
  });

  it("finds a pair in either order and formats its cells", () => {
    const pair = {
      a: 1,
      b: 2,
      cord: { dice: 0.91234, hd95_mm: 1.5, images: { both: 1, only_a: 0, only_b: 0 } },
      corners: { errors_mm: { C3_AS: 2 }, mean_mm: 2, max_mm: 2.5, missing: [] },
    } as unknown as PairAgreement;
    expect(pairOf([pair], 2, 1)).toBe(pair);
    expect(pairOf([pair], 1, 3)).toBeNull();
    expect(agreementCells(pair.cord)).toEqual(["0.912", "1.50 mm"]);
    expect(agreementCells(pair.corners)).toEqual(["mean 2.00 mm", "max 2.50 mm"]);
    expect(agreementCells(undefined)).toEqual(["—", "—"]);
  });

  it("compares two reads that are not the gold first", () => {
    expect(defaultPair([read(7, "gold"), read(1), read(2)])).toEqual([1, 2]);
    expect(defaultPair([read(7, "gold"), read(1)])).toEqual([1, 7]);
    expect(defaultPair([read(1)])).toBeNull();
  });
});
