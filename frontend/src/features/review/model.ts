/** Pure helpers of the review page: the measurements table, agreement cells, fuse methods per structure. */

import type { AreaAgreement, KeypointAgreement, PairAgreement, ReadMeasurements, ReviewRead } from "./api";

export const KEYPOINTS = "corners";

/** What a structure may be fused by: keypoints by their mean, areas by majority vote or STAPLE. */
export function fuseMethods(structure: string): ("majority" | "staple" | "mean")[] {
  return structure === KEYPOINTS ? ["mean"] : ["majority", "staple"];
}

export interface ImageLabel {
  id: number;
  view: string;
  index: number;
}

export interface TableRow {
  label: string;
  cells: string[];
}

const SAGITTAL: [string, string, (v: number) => string][] = [
  ["MSCC", "mscc_percent", (v) => `${v.toFixed(1)} %`],
  ["MCC", "mcc_percent", (v) => `${v.toFixed(1)} %`],
];
const AXIAL: [string, string, (v: number) => string][] = [
  ["TA", "ta", (v) => `${v.toFixed(1)} mm²`],
  ["CR", "cr", (v) => v.toFixed(2)],
];

function cell(value: unknown, format: (v: number) => string): string {
  return typeof value === "number" && Number.isFinite(value) ? format(value) : "—";
}

/**
 * Rows of the side-by-side measurements: MSCC, MCC and the compression level from each read's sagittal
 * results, then TA and CR per axial image (each axial slice is one level), one column per read.
 */
export function measurementRows(
  reads: readonly ReviewRead[],
  measured: readonly ReadMeasurements[],
  images: ReadonlyMap<number, ImageLabel>,
): TableRow[] {
  const byRead = new Map(measured.map((m) => [m.read, m.results]));
  const resultsOf = (r: ReviewRead) => byRead.get(r.id) ?? [];
  const sagittalOf = (r: ReviewRead) => resultsOf(r).find((x) => x.view === "sagittal");
  const rows: TableRow[] = SAGITTAL.map(([label, key, format]) => ({
    label,
    cells: reads.map((r) => cell(sagittalOf(r)?.values[key], format)),
  }));
  rows.push({
    label: "Level",
    cells: reads.map((r) => {
      const level = sagittalOf(r)?.values.d_i_level;
      return typeof level === "string" && level ? level : "—";
    }),
  });
  const axialImages = [
    ...new Set(measured.flatMap((m) => m.results.filter((x) => x.view === "axial").map((x) => x.image))),
  ].sort((a, b) => (images.get(a)?.index ?? a) - (images.get(b)?.index ?? b));
  for (const image of axialImages) {
    const where = images.get(image);
    const name = where ? `axial #${where.index + 1}` : `image ${image}`;
    for (const [label, key, format] of AXIAL) {
      rows.push({
        label: `${label} · ${name}`,
        cells: reads.map((r) => cell(resultsOf(r).find((x) => x.image === image)?.values[key], format)),
      });
    }
  }
  return rows;
}

/** The agreement of two reads, whichever order the server paired them in. */
export function pairOf(pairs: readonly PairAgreement[], a: number, b: number): PairAgreement | null {
  return pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a)) ?? null;
}

export function isKeypoints(v: unknown): v is KeypointAgreement {
  return typeof v === "object" && v !== null && "errors_mm" in v;
}

/** One structure's agreement as table cells: [Dice, HD95] for areas, [mean, max] mm for keypoints. */
export function agreementCells(value: AreaAgreement | KeypointAgreement | number | undefined): [string, string] {
  const mm = (v: number | null) => (v === null ? "—" : `${v.toFixed(2)} mm`);
  if (value === undefined || typeof value === "number") return ["—", "—"];
  if (isKeypoints(value)) return [`mean ${mm(value.mean_mm)}`, `max ${mm(value.max_mm)}`];
  return [value.dice === null ? "—" : value.dice.toFixed(3), mm(value.hd95_mm)];
}

/** The two reads compared first: the first two that are not the gold (or the gold when only it is left). */
export function defaultPair(reads: readonly ReviewRead[]): [number, number] | null {
  const order = [...reads.filter((r) => r.kind !== "gold"), ...reads.filter((r) => r.kind === "gold")];
  const [a, b] = order;
  return a && b ? [a.id, b.id] : null;
}
