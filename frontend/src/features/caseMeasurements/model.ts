/** Pure helpers of the per-case measurement page: the side-by-side table of every visible read (docs/API.md,
 * "Measurements"), each cell naming the result (read, image) whose chords produced it. */

import type { Chord } from "../../contract/types";
import { formatNumber } from "../measure";

export interface CaseMeasurementResult {
  image: number;
  view: string;
  values: Record<string, unknown>;
  chords: Chord[];
  warnings: string[];
  missing: string[];
  algorithm_version?: string;
  parameters?: Record<string, unknown>;
}

/** The disc level of one axial image of a read: from a labelme image flag, or placed by the sagittal
 * vertebral corners of read `corners_read` (its own, or the gold read's). */
export interface ImageLevel {
  image: number;
  level: string;
  origin: "flag" | "corners";
  corners_read: number | null;
  distance_mm: number | null;
  estimated: boolean;
}

export interface CaseRead {
  id: number;
  kind: "human" | "model" | "imported" | "gold";
  key: string;
  colour: string;
  title: string;
  name: string;
  author: { id: number; username: string } | null;
  revision: number | null;
  revision_number: number | null;
  submitted_at: string | null;
  signed: boolean;
  results: CaseMeasurementResult[];
  levels?: ImageLevel[];
  level_notes?: string[];
}

export interface CaseMeasurements {
  case: number;
  role: string;
  reads: CaseRead[];
}

/** One cell: the text shown, the raw value, and the result it comes from (null: nothing measured). */
export interface Cell {
  text: string;
  value: number | string | null;
  read: number;
  image: number | null;
  /** Outside seed 000's healthy range (per-level values only): the range as text. */
  outside: string | null;
}

export interface Row {
  key: string;
  /** The heading the row sits under (the per-level table: its level and axial image), or "". */
  group: string;
  /** The per-level table: the disc level(s) of the row's image ("" when none is known). */
  level?: string;
  label: string;
  title: string;
  cells: Cell[];
}

export interface Section {
  id: "main" | "levels";
  title: string;
  rows: Row[];
  /** Why the section has no row ("No axial result yet: draw the cord on an axial slice."). */
  empty: string | null;
}

/** The read's name in a column head: "Annotator · alice", "Model · sagittal v3", "Gold standard ✓". */
export function readHeading(r: CaseRead): string {
  if (r.kind === "human") return `${r.title} · ${r.author?.username ?? r.name}`;
  if (r.kind === "gold") return r.signed ? `${r.title} (signed)` : `${r.title} (not signed)`;
  return r.name ? `${r.title} · ${r.name}` : r.title;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The read's sagittal result that carries the seed 003 values (MSCC first), or its first sagittal one. */
export function sagittalResult(r: CaseRead): CaseMeasurementResult | null {
  const sag = r.results.filter((x) => x.view === "sagittal");
  return sag.find((x) => num(x.values.mscc_percent) !== null || num(x.values.mcc_percent) !== null) ?? sag[0] ?? null;
}

/** The axial result at the narrowest level (seed 003 measures TA there): the smallest TA of the read. */
export function narrowestAxial(r: CaseRead): CaseMeasurementResult | null {
  let best: CaseMeasurementResult | null = null;
  for (const x of r.results) {
    const ta = num(x.values.ta);
    if (x.view !== "axial" || ta === null) continue;
    if (best === null || ta < (num(best.values.ta) ?? Infinity)) best = x;
  }
  return best;
}

interface ValueSpec {
  key: string;
  label: string;
  unit: string;
  title: string;
  /** seed 000's healthy range of a per-level value. */
  range?: [number, number];
}

const MAIN: ValueSpec[] = [
  { key: "mscc_percent", label: "MSCC", unit: "%", title: "Maximum spinal cord compression (sagittal)" },
  { key: "mcc_percent", label: "MCC", unit: "%", title: "Maximum canal compromise (sagittal)" },
  { key: "d_i_level", label: "Level", unit: "", title: "Level of the narrowest cord width d_i" },
  { key: "d_i", label: "d_i", unit: "mm", title: "Cord width at its narrowest layer" },
  { key: "D_i", label: "D_i", unit: "mm", title: "Canal width at its narrowest layer" },
];
const AXIAL_MAIN: ValueSpec[] = [
  { key: "ta", label: "TA", unit: "mm²", title: "Transverse area of the cord at the narrowest level (axial)" },
  { key: "cr", label: "CR", unit: "", title: "Compression ratio AP / transverse at the narrowest level (axial)" },
];

// Seed 000's per-level values with the paper's healthy adult ranges (measurements/core/morphometry.py).
export const LEVEL_VALUES: ValueSpec[] = [
  { key: "ta", label: "Cord area", unit: "mm²", title: "Cord area", range: [53.71, 110.32] },
  { key: "transverse", label: "Cord transverse", unit: "mm", title: "Cord transverse diameter", range: [9.11, 16.02] },
  { key: "ap", label: "Cord AP", unit: "mm", title: "Cord AP diameter", range: [5.47, 10.12] },
  { key: "cr", label: "CR", unit: "", title: "Compression ratio AP / transverse" },
  {
    key: "sas_area",
    label: "SAS area",
    unit: "mm²",
    title: "Subarachnoid space area (dural sac)",
    range: [102.85, 358.12],
  },
  { key: "cord_sas_ratio", label: "Cord / SAS", unit: "", title: "Cord area / SAS area", range: [0.25, 0.68] },
  { key: "sas_transverse", label: "SAS transverse", unit: "mm", title: "SAS transverse", range: [14.77, 26.56] },
  { key: "sas_ap", label: "SAS AP", unit: "mm", title: "SAS AP diameter", range: [7.38, 17.58] },
];

function valueCell(read: CaseRead, result: CaseMeasurementResult | null, spec: ValueSpec): Cell {
  const raw = result?.values[spec.key];
  const value = typeof raw === "number" ? num(raw) : typeof raw === "string" && raw ? raw : null;
  const n = num(value);
  const outside =
    spec.range && n !== null && (n < spec.range[0] || n > spec.range[1])
      ? `outside the healthy range ${spec.range[0]}–${spec.range[1]}${spec.unit ? ` ${spec.unit}` : ""} (seed 000)`
      : null;
  return {
    text: value === null ? "—" : formatNumber(value, spec.unit),
    value,
    read: read.id,
    image: value === null ? null : (result?.image ?? null),
    outside,
  };
}

/** MSCC, MCC, level, d_i, D_i from each read's sagittal result; TA and CR at its narrowest axial level. */
export function mainRows(reads: readonly CaseRead[]): Row[] {
  const rows: Row[] = MAIN.map((spec) => ({
    key: spec.key,
    group: "",
    label: spec.label,
    title: spec.title,
    cells: reads.map((r) => valueCell(r, sagittalResult(r), spec)),
  }));
  for (const spec of AXIAL_MAIN)
    rows.push({
      key: spec.key,
      group: "",
      label: spec.label,
      title: spec.title,
      cells: reads.map((r) => valueCell(r, narrowestAxial(r), spec)),
    });
  return rows;
}

const LEVEL_ORDER = ["C2/3", "C3/4", "C4/5", "C5/6", "C6/7", "C7/T1"];

/** Where one read's level came from, in words: "image flag" or "sagittal corners of Gold standard (signed)". */
export function levelOrigin(l: ImageLevel, reads: readonly CaseRead[]): string {
  if (l.origin === "flag") return "image flag";
  return `sagittal corners of ${cornersOf(l, reads)}`;
}

function cornersOf(l: ImageLevel, reads: readonly CaseRead[]): string {
  const from = reads.find((r) => r.id === l.corners_read);
  return from ? readHeading(from) : `read ${l.corners_read ?? "?"}`;
}

export interface LevelOfImage {
  level: string;
  /** "image flag", "sagittal corners of A, B" (whose corners placed it), with "estimated" for C2/3 and C7/T1. */
  origin: string;
  /** The reads that give the image this level. */
  reads: number[];
}

/** The disc level(s) the reads give an axial image, each with where it came from (reads may differ). */
export function imageLevels(reads: readonly CaseRead[], image: number): LevelOfImage[] {
  const found = new Map<string, { flag: boolean; corners: string[]; estimated: boolean; reads: number[] }>();
  for (const r of reads)
    for (const l of r.levels ?? []) {
      if (l.image !== image) continue;
      const entry = found.get(l.level) ?? { flag: false, corners: [], estimated: false, reads: [] };
      entry.reads.push(r.id);
      if (l.origin === "flag") entry.flag = true;
      else {
        const whose = cornersOf(l, reads);
        if (!entry.corners.includes(whose)) entry.corners.push(whose);
        entry.estimated ||= l.estimated;
      }
      found.set(l.level, entry);
    }
  return [...found].map(([level, e]) => {
    const parts = e.flag ? ["image flag"] : [];
    if (e.corners.length)
      parts.push(
        `sagittal corners of ${e.corners.join(", ")}${e.estimated ? ", estimated from the mean disc height" : ""}`,
      );
    return { level, origin: parts.join("; "), reads: e.reads };
  });
}

function levelRank(reads: readonly CaseRead[], image: number): number {
  const found = imageLevels(reads, image).map((x) => LEVEL_ORDER.indexOf(x.level));
  return found.length ? Math.min(...found) : LEVEL_ORDER.length;
}

/** The per-level table: for each axial image any read measured (by disc level, then in `order`), its seed 000
 * values per read, under a heading naming the image's level and where the level came from. */
export function levelRows(
  reads: readonly CaseRead[],
  imageName: (image: number) => string,
  order: (image: number) => number,
): Row[] {
  const images = [
    ...new Set(reads.flatMap((r) => r.results.filter((x) => x.view === "axial").map((x) => x.image))),
  ].sort((a, b) => levelRank(reads, a) - levelRank(reads, b) || order(a) - order(b));
  const rows: Row[] = [];
  for (const image of images) {
    const resultOf = (r: CaseRead) => r.results.find((x) => x.image === image) ?? null;
    const levels = imageLevels(reads, image);
    const level = [...new Set(levels.map((x) => x.level))].join(" / ");
    const group = levels.length
      ? `${level} · ${imageName(image)} (${levels.map((x) => (levels.length > 1 ? `${x.level}: ${x.origin}` : x.origin)).join("; ")})`
      : imageName(image);
    for (const spec of LEVEL_VALUES) {
      const cells = reads.map((r) => valueCell(r, resultOf(r), spec));
      if (cells.every((c) => c.value === null)) continue;
      rows.push({
        key: `${image}:${spec.key}`,
        group,
        level,
        label: spec.label,
        title: spec.title,
        cells,
      });
    }
  }
  return rows;
}

/** Why no axial image has a level: the first read's notes, or how to give one. */
export function levelHint(reads: readonly CaseRead[]): string {
  const notes = reads.flatMap((r) => r.level_notes ?? []);
  const why = notes.length ? ` (${[...new Set(notes)].slice(0, 2).join("; ")})` : "";
  return `No disc level is known for these slices${why}: place the 20 vertebral corners on a sagittal image, or flag the slice's level.`;
}

export function sections(
  reads: readonly CaseRead[],
  imageName: (image: number) => string,
  order: (image: number) => number,
): Section[] {
  const main = mainRows(reads);
  const levels = levelRows(reads, imageName, order);
  const anyMain = main.some((r) => r.cells.some((c) => c.value !== null));
  return [
    {
      id: "main",
      title: "Seed 003: MSCC, MCC, TA, CR",
      rows: main,
      empty: anyMain ? null : emptyHint(reads),
    },
    {
      id: "levels",
      title: "Per level (seed 000; healthy ranges marked)",
      rows: levels,
      empty: !levels.length
        ? "No axial result yet: draw the cord (and the dural sac) on an axial slice."
        : levels.some((r) => r.level)
          ? null
          : levelHint(reads),
    },
  ];
}

/** What the page says when no read gives a value. */
export function emptyHint(reads: readonly CaseRead[]): string {
  if (reads.length === 0) return "No read of this case is visible to you yet.";
  if (reads.every((r) => r.revision === null)) return "No read has been saved yet.";
  return "No read gives a value yet: draw the cord and canal and place the vertebral corners.";
}

/** The chords of the result behind a cell (the lines that measured it). */
export function chordsOf(reads: readonly CaseRead[], read: number, image: number): Chord[] {
  return reads.find((r) => r.id === read)?.results.find((x) => x.image === image)?.chords ?? [];
}
