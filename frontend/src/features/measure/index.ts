/** Measurement panel: MSCC, MCC, TA, CR and the widths, from POST /api/cases/{id}/measure (debounced live preview);
 * a per-level summary on top, and one block per slice with shapes (folded to a line when there are many). */

import { ApiError, postJSON } from "../../api/client";
import type { Chord, MeasurementResult, SeriesInfo, ShapesByImage } from "../../contract/types";
import { clear, el } from "../ui";
import type { MeasureGroup } from "./layout";
import { formatNumber, groupValues, imageOrder, imagesLabel, mergeResults, missingHint, percentOf } from "./layout";
import { levelSummary } from "./summary";

/** Above this many slice blocks, each is folded to one line (the summary says the rest). */
const FOLD_OVER = 4;

/** One line of a folded block: its main values, or what it lacks. */
export function brief(r: MeasurementResult): string {
  const v = r.values ?? {};
  const parts: string[] = [];
  const mscc = percentOf(v, "mscc");
  const mcc = percentOf(v, "mcc");
  if (mscc !== null) parts.push(`MSCC ${formatNumber(mscc, "%")}`);
  if (mcc !== null) parts.push(`MCC ${formatNumber(mcc, "%")}`);
  if (typeof v.ta === "number") parts.push(`TA ${formatNumber(v.ta, "mm²")}`);
  if (typeof v.cr === "number") parts.push(`CR ${formatNumber(v.cr)}`);
  if (parts.length) return parts.join(" · ");
  return (r.missing ?? []).length ? "incomplete" : "";
}

export { formatNumber, groupValues, imageLabel, imageOrder, missingHint } from "./layout";
export { levelSummary } from "./summary";

export class MeasurePanel {
  readonly body = el("div", { "data-testid": "measure-panel" });
  readonly reference = el("select", { "data-testid": "measure-reference", title: "Reference levels for d_a/d_b" });
  chords = new Map<string, Chord[]>();
  private timer = 0;
  private seq = 0;
  onChords: () => void = () => {};

  /** Secondary groups the user unfolded (kept open across the re-render of each edit). */
  private readonly unfolded = new Set<string>();
  /** Folded slice blocks the user opened (by their images), likewise. */
  private readonly openBlocks = new Set<string>();

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
    const merged = mergeResults(sorted);
    // Many slices with shapes (an axial stack): one folded line each, the summary on top.
    const fold = merged.length > FOLD_OVER;
    const blocks: HTMLDetailsElement[] = [];
    for (const { images, result: r } of merged) {
      const key = images.map(String).join(" ");
      const block = el("details", {
        class: "meas-block",
        "data-testid": "measure-result",
        "data-image": key,
        "data-view": r.view ?? "",
      });
      block.open = !fold || this.openBlocks.has(key);
      block.addEventListener("toggle", () => {
        if (block.open) this.openBlocks.add(key);
        else this.openBlocks.delete(key);
      });
      blocks.push(block);
      block.append(
        el(
          "summary",
          { class: "meas-head" },
          el("span", { "data-testid": "measure-image" }, imagesLabel(this.series, images)),
          el("span", { class: "meas-brief dim" }, brief(r)),
        ),
      );
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
    this.body.prepend(...this.summary(sorted, blocks));
    this.onChords();
  }

  /** The per-level summary (nothing for fewer than two lines' worth): a click on a line
   * unfolds and shows the blocks it sums up. */
  private summary(results: MeasurementResult[], blocks: HTMLDetailsElement[]): HTMLElement[] {
    const rows = levelSummary(results, this.series);
    if (!rows.length) return [];
    const table = el("table", { class: "meas-table meas-summary", "data-testid": "measure-summary" });
    for (const r of rows) {
      const tr = el(
        "tr",
        { "data-testid": "measure-summary-row", "data-level": r.level, title: "Show these slices" },
        el("td", { class: "n" }, r.level),
        el("td", { class: "v" }, r.parts.join(" · ") || "—"),
      );
      tr.addEventListener("click", () => {
        const ids = new Set(r.images.map(String));
        const targets = blocks.filter((b) => (b.dataset.image ?? "").split(" ").some((id) => ids.has(id)));
        for (const b of targets) b.open = true;
        targets[0]?.scrollIntoView({ block: "nearest" });
      });
      table.append(tr);
    }
    return [el("div", { class: "meas-title" }, "Summary by level"), table];
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
