/** Measurement panel: MSCC, MCC, TA, CR and the widths, from POST /api/cases/{id}/measure (debounced live preview). */

import { ApiError, postJSON } from "../../api/client";
import type { Chord, MeasurementResult, ShapesByImage } from "../../contract/types";
import { clear, el } from "../ui/dom";

const ORDER: [string, string, string][] = [
  ["mscc", "MSCC", "%"],
  ["mcc", "MCC", "%"],
  ["ta", "TA", "mm²"],
  ["cr", "CR", ""],
  ["d_i", "d_i", "mm"],
  ["d_a", "d_a", "mm"],
  ["d_b", "d_b", "mm"],
  ["D_i", "D_i", "mm"],
  ["D_a", "D_a", "mm"],
  ["D_b", "D_b", "mm"],
  ["transverse", "Transverse", "mm"],
  ["ap", "AP", "mm"],
];
const HIGHLIGHT = new Set(["mscc", "mcc", "ta", "cr"]);

export function findValue(values: Record<string, unknown>, key: string, unit = ""): unknown {
  // Ratios (MSCC, MCC) come as fractions with a `_percent` twin: a "%" row shows the percentage.
  if (unit === "%") {
    const pct = values[`${key}_percent`];
    if (typeof pct === "number") return pct;
    const frac = values[key];
    if (typeof frac === "number") return frac * 100;
  }
  if (key in values) return values[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(values)) if (k.toLowerCase() === lower || k.toLowerCase() === `${lower}_percent`) return v;
  return undefined;
}

function fmt(v: unknown, unit: string): string {
  if (typeof v === "number" && Number.isFinite(v)) {
    const digits = Math.abs(v) >= 100 ? 1 : Math.abs(v) >= 10 ? 2 : 3;
    return `${v.toFixed(digits)}${unit ? ` ${unit}` : ""}`;
  }
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export class MeasurePanel {
  readonly body = el("div", { "data-testid": "measure-panel" });
  readonly reference = el("select", { "data-testid": "measure-reference", title: "Reference levels for d_a/d_b" });
  chords = new Map<string, Chord[]>();
  private timer = 0;
  private seq = 0;
  onChords: () => void = () => {};

  constructor(private readonly caseId: number) {
    this.reference.append(el("option", { value: "C3C7" }, "Reference C3 / C7"), el("option", { value: "adjacent" }, "Reference adjacent (SCT)"));
    this.reference.addEventListener("change", () => this.schedule(this.lastShapes, 0));
    this.body.append(el("div", { class: "row dim" }, "Draw cord/canal and the vertebral corners to measure."));
  }

  private lastShapes: ShapesByImage = {};

  /** Ask for a preview of `shapes` after a short pause in editing. */
  schedule(shapes: ShapesByImage, delay = 600): void {
    this.lastShapes = shapes;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.run(shapes), delay);
  }

  private async run(shapes: ShapesByImage): Promise<void> {
    const seq = ++this.seq;
    this.body.dataset.state = "loading";
    let res: { results: MeasurementResult[] };
    try {
      res = await postJSON<{ results: MeasurementResult[] }>(`/api/cases/${this.caseId}/measure`, { shapes, reference: this.reference.value });
    } catch (e) {
      if (seq !== this.seq) return;
      clear(this.body);
      const msg = e instanceof ApiError && e.status === 404 ? "Measurements are not available on this server yet." : `Could not measure: ${e instanceof Error ? e.message : String(e)}`;
      this.body.append(el("div", { class: "row dim", "data-testid": "measure-error" }, msg));
      this.body.dataset.state = "error";
      return;
    }
    if (seq !== this.seq) return; // a newer preview is on its way
    this.render(res.results ?? []);
  }

  render(results: MeasurementResult[]): void {
    clear(this.body);
    this.chords.clear();
    this.body.dataset.state = "ready";
    if (results.length === 0) this.body.append(el("div", { class: "row dim" }, "Nothing to measure yet."));
    for (const r of results) {
      this.chords.set(String(r.image), r.chords ?? []);
      const table = el("table", { class: "meas-table" });
      const seen = new Set<string>();
      for (const [key, name, unit] of ORDER) {
        const v = findValue(r.values, key, unit);
        if (v === undefined) continue;
        seen.add(key.toLowerCase());
        table.append(el("tr", { class: HIGHLIGHT.has(key) ? "hl" : "", "data-testid": `measure-${key}` }, el("td", {}, name), el("td", { class: "v" }, fmt(v, unit))));
      }
      for (const [k, v] of Object.entries(r.values)) {
        if (seen.has(k.toLowerCase()) || ORDER.some(([key]) => k.toLowerCase() === `${key.toLowerCase()}_percent`)) continue;
        table.append(el("tr", { "data-testid": `measure-${k}` }, el("td", {}, k), el("td", { class: "v" }, fmt(v, ""))));
      }
      this.body.append(el("div", { class: "row dim" }, `${r.view} · image ${r.image}`), table);
      for (const w of r.warnings ?? []) this.body.append(el("div", { class: "row", style: "color:#f3d58b" }, `⚠ ${w}`));
    }
    this.onChords();
  }
}
