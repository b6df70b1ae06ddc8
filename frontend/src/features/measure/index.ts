/** Measurement panel: MSCC, MCC, TA, CR and the widths, from POST /api/cases/{id}/measure (debounced live preview). */

import { ApiError, postJSON } from "../../api/client";
import type { Chord, MeasurementResult, SeriesInfo, ShapesByImage } from "../../contract/types";
import { clear, el } from "../ui";
import type { MeasureGroup } from "./layout";
import { groupValues, imageOrder, imagesLabel, mergeResults, missingHint } from "./layout";

export { formatNumber, groupValues, imageLabel, missingHint } from "./layout";

export class MeasurePanel {
  readonly body = el("div", { "data-testid": "measure-panel" });
  readonly reference = el("select", { "data-testid": "measure-reference", title: "Reference levels for d_a/d_b" });
  chords = new Map<string, Chord[]>();
  private timer = 0;
  private seq = 0;
  onChords: () => void = () => {};

  /** Secondary groups the user unfolded (kept open across the re-render of each edit). */
  private readonly unfolded = new Set<string>();

  constructor(
    private readonly caseId: number,
    private readonly series: readonly SeriesInfo[] = [],
  ) {
    this.reference.append(
      el("option", { value: "C3C7" }, "Reference C3 / C7"),
      el("option", { value: "adjacent" }, "Reference adjacent (SCT)"),
    );
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
      res = await postJSON<{ results: MeasurementResult[] }>(`/api/cases/${this.caseId}/measure`, {
        shapes,
        reference: this.reference.value,
      });
    } catch (e) {
      if (seq !== this.seq) return;
      clear(this.body);
      const msg =
        e instanceof ApiError && e.status === 404
          ? "Measurements are not available on this server yet."
          : `Could not measure: ${e instanceof Error ? e.message : String(e)}`;
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
    if (results.length === 0)
      this.body.append(
        el(
          "div",
          { class: "row dim" },
          "Nothing to measure yet: draw the cord and canal, and place the vertebral corners.",
        ),
      );
    const sorted = [...results].sort((a, b) => imageOrder(this.series, a.image) - imageOrder(this.series, b.image));
    for (const r of sorted) this.chords.set(String(r.image), r.chords ?? []);
    for (const { images, result: r } of mergeResults(sorted)) {
      const block = el("div", {
        class: "meas-block",
        "data-testid": "measure-result",
        "data-image": images.map(String).join(" "),
        "data-view": r.view ?? "",
      });
      block.append(el("div", { class: "meas-head", "data-testid": "measure-image" }, imagesLabel(this.series, images)));
      const reference = typeof r.parameters?.reference === "string" ? r.parameters.reference : this.reference.value;
      for (const g of groupValues(r.values ?? {}, r.view ?? "", reference)) block.append(this.group(g, r.view ?? ""));
      const hints = el("ul", { class: "warnings meas-hints" });
      for (const m of r.missing ?? [])
        hints.append(
          el("li", { class: "hint", "data-testid": "measure-missing", title: m }, missingHint(m, r.view ?? "")),
        );
      for (const w of r.warnings ?? []) hints.append(el("li", { "data-testid": "measure-warning" }, `⚠ ${w}`));
      if (hints.childElementCount) block.append(hints);
      this.body.append(block);
    }
    this.onChords();
  }

  private group(g: MeasureGroup, view: string): HTMLElement {
    const table = el("table", { class: "meas-table" });
    for (const r of g.rows) {
      table.append(
        el(
          "tr",
          { class: r.hl ? "hl" : "", "data-testid": `measure-${r.key}`, title: r.title },
          el("td", { class: "n" }, r.name),
          el("td", { class: "v" }, r.value),
          el("td", { class: "x" }, r.detail),
        ),
      );
    }
    if (g.id === "main") {
      const wrap = el(
        "div",
        { class: "meas-group", "data-testid": `measure-group-${g.id}` },
        el("div", { class: "meas-title" }, g.title),
        table,
      );
      return wrap;
    }
    // Secondary groups are <details>: folded by default where the values are for comparison only.
    const key = `${view}:${g.id}`;
    const details = el(
      "details",
      { class: "meas-group", "data-testid": `measure-group-${g.id}` },
      el("summary", { class: "meas-title" }, `${g.title} `, el("span", { class: "dim" }, String(g.rows.length))),
      table,
    );
    details.open = this.unfolded.has(key) || (!g.folded && !this.unfolded.has(`!${key}`));
    details.addEventListener("toggle", () => {
      this.unfolded.delete(key);
      this.unfolded.delete(`!${key}`);
      if (details.open && g.folded) this.unfolded.add(key);
      if (!details.open && !g.folded) this.unfolded.add(`!${key}`);
    });
    return details;
  }
}
