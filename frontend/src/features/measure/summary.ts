/** The per-level summary on top of the measurement panel: one line per vertebral level with
 * the sagittal compression there (MSCC at the cord's narrowest level, MCC at the canal's), and
 * one for the axial slices (the smallest TA and CR, and where). Data only; the panel draws it. */

import type { MeasurementResult, SeriesInfo } from "../../contract/types";
import { formatNumber, imageLabel, percentOf } from "./layout";

export interface LevelRow {
  /** "C5/6", "C5", "level not known", or "axial". */
  level: string;
  /** "MSCC 18.6 %", "d_i 5.120 mm", "TA min 54.1 mm² (axial · slice 7/20)". */
  parts: string[];
  /** The images whose results the row sums up (the panel opens their blocks on a click). */
  images: (number | string)[];
}

const UNKNOWN = "level not known";

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Order of a level name along the spine: C2 < C2/3 < C3 < … < C7/T1; unknown last. */
export function levelOrder(level: string): number {
  const m = /^C(\d)(?:\/(?:C?(\d)|T1))?$/.exec(level);
  if (!m) return level === "axial" ? 1000 : 999;
  return Number(m[1]) * 2 + (m[2] !== undefined || level.endsWith("T1") ? 1 : 0);
}

function levelOf(values: Record<string, unknown>, key: string): string {
  const level = values[key];
  return typeof level === "string" && level ? level : UNKNOWN;
}

/** Rows by level for the sagittal results, then one row for the axial ones. */
export function levelSummary(results: readonly MeasurementResult[], series: readonly SeriesInfo[]): LevelRow[] {
  const byLevel = new Map<string, LevelRow>();
  const at = (level: string, image: number | string): LevelRow => {
    let row = byLevel.get(level);
    if (!row) byLevel.set(level, (row = { level, parts: [], images: [] }));
    if (!row.images.includes(image)) row.images.push(image);
    return row;
  };
  let ta: { v: number; image: number | string } | null = null;
  let cr: { v: number; image: number | string } | null = null;
  const axialImages: (number | string)[] = [];
  for (const r of results) {
    const v = r.values ?? {};
    const mscc = percentOf(v, "mscc");
    const mcc = percentOf(v, "mcc");
    if (mscc !== null || num(v.d_i) !== null) {
      const row = at(levelOf(v, "d_i_level"), r.image);
      if (mscc !== null) row.parts.push(`MSCC ${formatNumber(mscc, "%")}`);
      if (num(v.d_i) !== null) row.parts.push(`d_i ${formatNumber(v.d_i, "mm")}`);
    }
    if (mcc !== null || num(v.D_i) !== null) {
      const row = at(levelOf(v, "D_i_level"), r.image);
      if (mcc !== null) row.parts.push(`MCC ${formatNumber(mcc, "%")}`);
      if (num(v.D_i) !== null) row.parts.push(`D_i ${formatNumber(v.D_i, "mm")}`);
    }
    const area = num(v.ta);
    const ratio = num(v.cr);
    if (area !== null && (!ta || area < ta.v)) ta = { v: area, image: r.image };
    if (ratio !== null && (!cr || ratio < cr.v)) cr = { v: ratio, image: r.image };
    if (area !== null || ratio !== null) axialImages.push(r.image);
  }
  const rows = [...byLevel.values()].sort((a, b) => levelOrder(a.level) - levelOrder(b.level));
  if (axialImages.length) {
    const parts: string[] = [];
    if (ta) parts.push(`TA min ${formatNumber(ta.v, "mm²")} (${imageLabel(series, ta.image)})`);
    if (cr) parts.push(`CR min ${formatNumber(cr.v)} (${imageLabel(series, cr.image)})`);
    const n = axialImages.length;
    rows.push({ level: `axial · ${n} slice${n === 1 ? "" : "s"}`, parts, images: axialImages });
  }
  return rows;
}
