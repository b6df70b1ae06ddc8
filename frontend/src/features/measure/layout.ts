/**
 * What the measurement panel shows, as data (no DOM): values grouped as seed 003 reports them, then the
 * other reference, the manual calipers, SCT shape metrics and morphometry; units; hints for what is missing.
 */

import type { MeasurementResult, SeriesInfo } from "../../contract/types";

export interface MeasureRow {
  /** The value's key: the row's testid is `measure-<key>`. */
  key: string;
  name: string;
  /** The number with its unit ("18.6 %", "4.120 mm"), or "—". */
  value: string;
  /** A second, dimmer column: the fraction of a percentage, the level of a narrowest width. */
  detail: string;
  /** Tooltip: what the value is. */
  title: string;
  hl: boolean;
}

export interface MeasureGroup {
  id: "main" | "reference" | "manual" | "sct" | "morphometry" | "other";
  title: string;
  rows: MeasureRow[];
  folded: boolean;
}

type Kind = "percent" | "mm" | "mm2" | "ratio" | "deg" | "plain";

interface Spec {
  key: string;
  name: string;
  kind: Kind;
  title: string;
  hl?: boolean;
  /** Key of the level shown beside the value, and of its position along the canal (mm). */
  level?: string;
  position?: string;
}

const UNIT: Record<Kind, string> = { percent: "%", mm: "mm", mm2: "mm²", ratio: "", deg: "°", plain: "" };

const SAGITTAL_MAIN: Spec[] = [
  {
    key: "mscc",
    name: "MSCC",
    kind: "percent",
    hl: true,
    title: "Maximum spinal cord compression: 1 − 2·d_i / (d_a + d_b)",
  },
  { key: "mcc", name: "MCC", kind: "percent", hl: true, title: "Maximum canal compromise: 1 − 2·D_i / (D_a + D_b)" },
  {
    key: "d_i",
    name: "d_i",
    kind: "mm",
    level: "d_i_level",
    position: "d_i_position_mm",
    title: "Cord width at its narrowest layer",
  },
  { key: "d_a", name: "d_a", kind: "mm", title: "Cord width of the reference above" },
  { key: "d_b", name: "d_b", kind: "mm", title: "Cord width of the reference below" },
  {
    key: "D_i",
    name: "D_i",
    kind: "mm",
    level: "D_i_level",
    position: "D_i_position_mm",
    title: "Canal width at its narrowest layer",
  },
  { key: "D_a", name: "D_a", kind: "mm", title: "Canal width of the reference above" },
  { key: "D_b", name: "D_b", kind: "mm", title: "Canal width of the reference below" },
];

const AXIAL_MAIN: Spec[] = [
  { key: "ta", name: "TA", kind: "mm2", hl: true, title: "Transverse area of the cord" },
  {
    key: "transverse",
    name: "Transverse",
    kind: "mm",
    title: "Transverse diameter T: long side of the minimum-area rectangle",
  },
  { key: "ap", name: "AP", kind: "mm", title: "Antero-posterior diameter S: minimum caliper width" },
  { key: "cr", name: "CR", kind: "ratio", hl: true, title: "Compression ratio S / T" },
];

const REFERENCE: Spec[] = [
  { key: "mscc", name: "MSCC", kind: "percent", title: "MSCC with this reference" },
  { key: "mcc", name: "MCC", kind: "percent", title: "MCC with this reference" },
  { key: "d_a", name: "d_a", kind: "mm", title: "Cord width above" },
  { key: "d_b", name: "d_b", kind: "mm", title: "Cord width below" },
  { key: "D_a", name: "D_a", kind: "mm", title: "Canal width above" },
  { key: "D_b", name: "D_b", kind: "mm", title: "Canal width below" },
];

const MANUAL: Spec[] = [
  { key: "manual_mscc", name: "MSCC", kind: "percent", title: "MSCC from the d_i, d_a, d_b calipers" },
  { key: "manual_mcc", name: "MCC", kind: "percent", title: "MCC from the D_i, D_a, D_b calipers" },
  { key: "manual_cr", name: "CR", kind: "ratio", title: "CR from the S and T calipers" },
  ...["d_i", "d_a", "d_b", "D_i", "D_a", "D_b"].map((n): Spec => ({
    key: `manual_${n}`,
    name: n,
    kind: "mm",
    title: `Caliper ${n}`,
  })),
  { key: "manual_T", name: "T", kind: "mm", title: "Caliper T (transverse)" },
  { key: "manual_S", name: "S", kind: "mm", title: "Caliper S (antero-posterior)" },
];

const SCT: Spec[] = [
  { key: "sct_area", name: "Area", kind: "mm2", title: "Cord area (SCT sct_process_segmentation)" },
  {
    key: "sct_diameter_AP",
    name: "Diameter AP",
    kind: "mm",
    title: "Mean AP extent over a 3 mm band across the centroid",
  },
  { key: "sct_diameter_RL", name: "Diameter RL", kind: "mm", title: "Major axis of the inertia ellipse" },
  { key: "sct_eccentricity", name: "Eccentricity", kind: "plain", title: "Eccentricity of the inertia ellipse" },
  { key: "sct_solidity", name: "Solidity", kind: "plain", title: "Area / convex-hull area" },
  { key: "sct_orientation", name: "Orientation", kind: "deg", title: "Angle from the image x axis to the major axis" },
];

const MORPHOMETRY: Spec[] = [
  { key: "sas_area", name: "SAS area", kind: "mm2", title: "Subarachnoid space (dural sac, cord included)" },
  { key: "cord_sas_ratio", name: "Cord / SAS", kind: "ratio", title: "Cord area / subarachnoid space area" },
  { key: "sas_transverse", name: "SAS transverse", kind: "mm", title: "Transverse diameter of the dural sac" },
  { key: "sas_ap", name: "SAS AP", kind: "mm", title: "AP diameter of the dural sac" },
];

/** Keys shown inside another row (levels, positions, area kind) rather than on their own. */
const SHOWN_INSIDE = new Set(["d_i_level", "D_i_level", "d_i_position_mm", "D_i_position_mm", "ta_kind"]);

export function formatNumber(v: unknown, unit = ""): string {
  if (typeof v === "number" && Number.isFinite(v)) {
    const a = Math.abs(v);
    const digits = unit === "%" ? 1 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
    return `${v.toFixed(digits)}${unit ? ` ${unit}` : ""}`;
  }
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v) ?? "—";
}

/** A ratio's percentage: the `_percent` twin when the server sent it, else the fraction × 100. */
export function percentOf(values: Record<string, unknown>, key: string): number | null {
  const pct = values[`${key}_percent`];
  if (typeof pct === "number" && Number.isFinite(pct)) return pct;
  const frac = values[key];
  return typeof frac === "number" && Number.isFinite(frac) ? frac * 100 : null;
}

function row(values: Record<string, unknown>, spec: Spec, prefix = ""): MeasureRow {
  const key = `${prefix}${spec.key}`;
  const v = values[key];
  let value: string;
  let detail = "";
  let title = spec.title;
  if (spec.kind === "percent") {
    const pct = percentOf(values, key);
    value = formatNumber(pct, "%");
    // Seed 003's tables give fractions (0.186 ± 0.078): both are shown.
    if (typeof v === "number" && Number.isFinite(v)) detail = v.toFixed(3);
  } else {
    value = formatNumber(v, UNIT[spec.kind]);
  }
  if (spec.level) {
    const level = values[`${prefix}${spec.level}`];
    if (typeof level === "string" && level) detail = level;
    const pos = spec.position ? values[`${prefix}${spec.position}`] : undefined;
    if (typeof pos === "number" && Number.isFinite(pos))
      title += ` · ${pos.toFixed(1)} mm along the posterior walls from C3`;
  }
  if (spec.key === "ta" && typeof values.ta_kind === "string") title += ` (${values.ta_kind} area)`;
  return { key, name: spec.name, value, detail, title, hl: spec.hl ?? false };
}

function present(values: Record<string, unknown>, key: string): boolean {
  return key in values || `${key}_percent` in values;
}

/** The other reference's values come prefixed with its lower-case name ("adjacent_mscc", "c3c7_d_a"). */
const REFERENCE_PREFIXES: [string, string][] = [
  ["adjacent_", "Adjacent reference (SCT)"],
  ["c3c7_", "C3 / C7 reference"],
];

export function referenceTitle(reference: string | undefined): string {
  return reference === "adjacent" ? "adjacent (SCT)" : "C3 / C7";
}

/** The rows of one result, in the order seed 003 reports them, then the rest (folded where secondary). */
export function groupValues(values: Record<string, unknown>, view: string, reference?: string): MeasureGroup[] {
  const used = new Set<string>(SHOWN_INSIDE);
  const groups: MeasureGroup[] = [];
  const take = (specs: Spec[], prefix = ""): MeasureRow[] => {
    const rows: MeasureRow[] = [];
    for (const s of specs) {
      const key = `${prefix}${s.key}`;
      if (!present(values, key)) continue;
      used.add(key).add(`${key}_percent`);
      if (s.level) used.add(`${prefix}${s.level}`);
      if (s.position) used.add(`${prefix}${s.position}`);
      rows.push(row(values, s, prefix));
    }
    return rows;
  };
  const add = (id: MeasureGroup["id"], title: string, rows: MeasureRow[], folded: boolean) => {
    if (rows.length) groups.push({ id, title, rows, folded });
  };
  const sagittal = take(SAGITTAL_MAIN);
  const axial = take(AXIAL_MAIN);
  const mainRows = view === "axial" ? [...axial, ...sagittal] : [...sagittal, ...axial];
  add("main", sagittal.length ? `Seed 003 · reference ${referenceTitle(reference)}` : "Seed 003", mainRows, false);
  for (const [prefix, title] of REFERENCE_PREFIXES) add("reference", title, take(REFERENCE, prefix), false);
  add("manual", "Manual calipers", take(MANUAL), false);
  add("sct", "SCT shape metrics", take(SCT), true);
  add("morphometry", "Cord and subarachnoid space (per level)", take(MORPHOMETRY), true);
  const rest = Object.keys(values).filter((k) => !used.has(k));
  add(
    "other",
    "Other values",
    rest.map((k) => ({ key: k, name: k, value: formatNumber(values[k]), detail: "", title: k, hl: false })),
    true,
  );
  return groups;
}

/** "sagittal · slice 5/9" for an image of the case ("sagittal T2 · slice 5/9" when two series share the orientation). */
export function imageLabel(series: readonly SeriesInfo[], imageId: number | string): string {
  const id = Number(imageId);
  for (const s of series) {
    const i = s.images.findIndex((im) => im.id === id);
    if (i < 0) continue;
    const twins = series.filter((x) => x.orientation === s.orientation).length > 1;
    const name = twins ? `${s.orientation} ${s.description || `#${s.number ?? s.id}`}` : s.orientation;
    return `${name} · slice ${i + 1}/${s.images.length}`;
  }
  return `image ${imageId}`;
}

/** "1–3, 5": sorted 1-based slice numbers as ranges. */
export function sliceRanges(numbers: readonly number[]): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}–${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(", ");
}

/** Label of several images with the same hints: "sagittal · slices 1–9 of 9" (one image: `imageLabel`). */
export function imagesLabel(series: readonly SeriesInfo[], imageIds: readonly (number | string)[]): string {
  if (imageIds.length === 1) return imageLabel(series, imageIds[0]);
  const ids = new Set(imageIds.map(Number));
  const owners = series.filter((s) => s.images.some((im) => ids.has(im.id)));
  const only = owners.length === 1 ? owners[0] : null;
  if (!only || only.images.filter((im) => ids.has(im.id)).length !== ids.size) return `${imageIds.length} images`;
  const numbers = only.images.flatMap((im, i) => (ids.has(im.id) ? [i + 1] : []));
  const twins = series.filter((x) => x.orientation === only.orientation).length > 1;
  const name = twins ? `${only.orientation} ${only.description || `#${only.number ?? only.id}`}` : only.orientation;
  return `${name} · slices ${sliceRanges(numbers)} of ${only.images.length}`;
}

/**
 * Results to show, one block each: images that gave no value and the same hints are merged (a model
 * read outlines every slice but seed 003 measures one, so nine identical "place the corners" would hide
 * the result that matters).
 */
export function mergeResults(
  results: readonly MeasurementResult[],
): { images: (number | string)[]; result: MeasurementResult }[] {
  const out: { images: (number | string)[]; result: MeasurementResult }[] = [];
  const merged = new Map<string, { images: (number | string)[]; result: MeasurementResult }>();
  for (const r of results) {
    const empty = Object.keys(r.values ?? {}).length === 0 && (r.chords ?? []).length === 0;
    if (!empty) {
      out.push({ images: [r.image], result: r });
      continue;
    }
    const key = JSON.stringify([r.view, r.missing ?? [], r.warnings ?? []]);
    const seen = merged.get(key);
    if (seen) seen.images.push(r.image);
    else {
      const entry = { images: [r.image], result: r };
      merged.set(key, entry);
      out.push(entry);
    }
  }
  return out;
}

/** Where an image sits among the case's series (for sorting results: series order, then slice). */
export function imageOrder(series: readonly SeriesInfo[], imageId: number | string): number {
  const id = Number(imageId);
  for (let k = 0; k < series.length; k++) {
    const i = series[k].images.findIndex((im) => im.id === id);
    if (i >= 0) return k * 100_000 + i;
  }
  return Number.MAX_SAFE_INTEGER;
}

function listNames(names: string[], max = 4): string {
  if (names.length <= 1) return names.join("");
  if (names.length > max) return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** A hint for one `missing` entry of a result: what to draw or place, and for which measurement. */
export function missingHint(missing: string, view: string): string {
  const m = missing.trim();
  const kp = /^keypoints?\s+(.+)$/i.exec(m);
  if (kp) {
    const names = kp[1].split(/\s*,\s*/).filter(Boolean);
    return `Place ${listNames(names)} to measure MSCC and MCC`;
  }
  const caliper = /^caliper\s+(\S+)\s+\(for\s+(\w+)\)$/i.exec(m);
  if (caliper) return `Draw caliper ${caliper[1]} to complete the manual ${caliper[2].toUpperCase()}`;
  if (m === "cord") return view === "axial" ? "Draw the cord to measure TA and CR" : "Draw the cord to measure MSCC";
  if (m === "canal")
    return view === "axial" ? "Draw the canal (dural sac) for the subarachnoid space" : "Draw the canal to measure MCC";
  if (m === "pixel spacing") return "The pixel spacing of this series is unknown: nothing can be measured in mm";
  return `Missing: ${m}`;
}
