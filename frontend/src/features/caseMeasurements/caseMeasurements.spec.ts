import { describe, expect, it } from "vitest";
import type { CaseRead } from "./model";
import { chordsOf, emptyHint, imageLevels, levelRows, mainRows, narrowestAxial, readHeading, sections } from "./model";

const chord = {
  name: "d_i",
  points: [[1, 2] as [number, number], [3, 4] as [number, number]] as [[number, number], [number, number]],
};

function read(id: number, over: Partial<CaseRead> = {}): CaseRead {
  return {
    id,
    kind: "human",
    key: "annotator",
    colour: "#E69F00",
    title: "Annotator",
    name: "",
    author: { id: 1, username: "alice" },
    revision: 10 + id,
    revision_number: 1,
    submitted_at: null,
    signed: false,
    results: [],
    ...over,
  };
}

const sag = (values: Record<string, unknown>) => ({
  image: 1,
  view: "sagittal",
  values,
  chords: [chord],
  warnings: [],
  missing: [],
});
const ax = (image: number, values: Record<string, unknown>) => ({
  image,
  view: "axial",
  values,
  chords: [],
  warnings: [],
  missing: [],
});

describe("the per-case measurement table", () => {
  it("puts each read's MSCC, MCC, level, TA and CR side by side, each linked to its image", () => {
    const a = read(1, {
      results: [sag({ mscc_percent: 18.64, mcc_percent: 30, d_i_level: "C5" }), ax(5, { ta: 70, cr: 0.5 })],
    });
    const gold = read(2, { kind: "gold", title: "Gold standard", signed: true, results: [sag({ mscc_percent: 20 })] });
    const rows = mainRows([a, gold]);
    const mscc = rows.find((r) => r.key === "mscc_percent");
    expect(mscc?.cells.map((c) => c.text)).toEqual(["18.6 %", "20.0 %"]);
    expect(mscc?.cells[0]).toMatchObject({ value: 18.64, read: 1, image: 1 });
    expect(rows.find((r) => r.key === "d_i_level")?.cells.map((c) => c.text)).toEqual(["C5", "—"]);
    const ta = rows.find((r) => r.key === "ta");
    expect(ta?.cells[0]).toMatchObject({ text: "70.00 mm²", image: 5 });
    expect(ta?.cells[1]).toMatchObject({ text: "—", value: null, image: null });
    expect(readHeading(gold)).toBe("Gold standard (signed)");
    expect(readHeading(a)).toBe("Annotator · alice");
    expect(chordsOf([a], 1, 1)).toEqual([chord]);
  });

  it("takes TA and CR at the narrowest axial level", () => {
    const r = read(1, { results: [ax(5, { ta: 80, cr: 0.6 }), ax(6, { ta: 60, cr: 0.4 }), ax(7, { ta: null })] });
    expect(narrowestAxial(r)?.image).toBe(6);
  });

  it("marks per-level values outside seed 000's healthy ranges", () => {
    const r = read(1, { results: [ax(5, { ta: 40, transverse: 12, ap: 7 }), ax(6, { ta: 70 })] });
    const rows = levelRows(
      [r],
      (i) => `axial ${i}`,
      (i) => i,
    );
    const low = rows.find((x) => x.key === "5:ta");
    expect(low?.label).toBe("Cord area");
    expect(low?.group).toBe("axial 5");
    expect(low?.cells[0].outside).toMatch(/outside the healthy range 53.71–110.32 mm²/);
    expect(rows.find((x) => x.key === "6:ta")?.cells[0].outside).toBeNull();
    expect(rows.some((x) => x.key === "6:transverse")).toBe(false);
  });

  it("explains an empty page", () => {
    expect(emptyHint([])).toBe("No read of this case is visible to you yet.");
    expect(emptyHint([read(1, { revision: null })])).toBe("No read has been saved yet.");
    const parts = sections([read(1)], String, Number);
    expect(parts[0].empty).toMatch(/draw the cord and canal/);
    expect(parts[1].empty).toMatch(/axial slice/);
  });

  it("heads each axial image with its disc level and where the level came from, in level order", () => {
    const gold = read(2, {
      kind: "gold",
      title: "Gold standard",
      signed: true,
      results: [ax(5, { ta: 70 }), ax(6, { ta: 72 }), ax(7, { ta: 74 })],
      levels: [
        { image: 5, level: "C5/6", origin: "corners", corners_read: 2, distance_mm: 0.4, estimated: false },
        { image: 6, level: "C2/3", origin: "corners", corners_read: 2, distance_mm: 1.1, estimated: true },
      ],
    });
    const mine = read(1, {
      results: [ax(5, { ta: 69 })],
      levels: [{ image: 5, level: "C4/5", origin: "flag", corners_read: null, distance_mm: null, estimated: false }],
    });
    const rows = levelRows(
      [mine, gold],
      (i) => `axial ${i}`,
      (i) => i,
    );
    const groups = [...new Set(rows.map((r) => r.group))];
    expect(groups).toEqual([
      "C2/3 · axial 6 (sagittal corners of Gold standard (signed), estimated from the mean disc height)",
      "C4/5 / C5/6 · axial 5 (C4/5: image flag; C5/6: sagittal corners of Gold standard (signed))",
      "axial 7",
    ]);
    expect(rows.find((r) => r.key === "6:ta")?.level).toBe("C2/3");
    expect(rows.find((r) => r.key === "7:ta")?.level).toBe("");
    expect(imageLevels([mine, gold], 5).map((x) => x.reads)).toEqual([[1], [2]]);
    expect(sections([mine, gold], String, Number)[1].empty).toBeNull();
  });

  it("says why no slice has a level", () => {
    const r = read(1, { results: [ax(5, { ta: 70 })], level_notes: ["no vertebral corners on a sagittal image"] });
    const part = sections([r], String, Number)[1];
    expect(part.rows.length).toBeGreaterThan(0);
    expect(part.empty).toMatch(/No disc level is known for these slices \(no vertebral corners/);
  });

  it("names every read whose corners agree on a level once, under one heading", () => {
    const lvl = (id: number) => ({
      image: 5,
      level: "C3/4",
      origin: "corners" as const,
      corners_read: id,
      distance_mm: 0.2,
      estimated: false,
    });
    const a = read(1, { results: [ax(5, { ta: 70 })], levels: [lvl(1)] });
    const m = read(3, { kind: "model", title: "Model", name: "v1", results: [ax(5, { ta: 71 })], levels: [lvl(3)] });
    expect(imageLevels([a, m], 5)).toEqual([
      { level: "C3/4", origin: "sagittal corners of Annotator · alice, Model · v1", reads: [1, 3] },
    ]);
    const rows = levelRows([a, m], (i) => `axial ${i}`, Number);
    expect(rows[0].group).toBe("C3/4 · axial 5 (sagittal corners of Annotator · alice, Model · v1)");
  });
});
