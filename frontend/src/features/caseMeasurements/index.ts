/** Per-case measurement page (issue 12 §3): every read the user may see side by side (MSCC, MCC, TA, CR and the
 * per-level table); a click on a value shows the image it was measured on with that read's shapes and the chords
 * that produced it. Live: a save or a signature on the case reloads the table. */

import { coalesced } from "../../core/coalesce";
import "./caseMeasurements.css";

import { getJSON } from "../../api/client";
import type { LiveEvent } from "../../api/live";
import { LiveSocket } from "../../api/live";
import type { CaseInfo, Revision, Shape } from "../../contract/types";
import { cachedMaskOf } from "../../core/mask";
import { drawChords, drawShapes, tintedTemplate } from "../annotator";
import { imageLabel } from "../measure";
import { clear, el, toast } from "../ui";
import type { Viewport } from "../viewer";
import { createViewerLayout } from "../viewer";
import type { CaseMeasurements, CaseRead, Cell, Section } from "./model";
import { chordsOf, readHeading, sections } from "./model";

export type { CaseMeasurements, CaseRead } from "./model";

interface Selection {
  read: number;
  image: number;
  key: string;
}

class CaseMeasurementsPage {
  data: CaseMeasurements | null = null;
  selected: Selection | null = null;
  readonly layout;
  readonly table = el("div", { class: "cm-tables", "data-testid": "case-measurements" });
  readonly caption = el("div", { class: "cm-caption", "data-testid": "overlay-caption" }, "Click a value to see it.");
  private readonly revisions = new Map<number, Promise<Revision>>();
  private shapes: Shape[] = [];

  constructor(
    readonly info: CaseInfo,
    readonly root: HTMLElement,
  ) {
    this.layout = createViewerLayout(info);
    for (const vp of this.layout.viewports) vp.drawers.push((ctx, v) => this.draw(ctx, v));
  }

  private read(id: number): CaseRead | undefined {
    return this.data?.reads.find((r) => r.id === id);
  }

  draw(ctx: CanvasRenderingContext2D, vp: Viewport): void {
    const sel = this.selected;
    if (!sel || vp.currentImageId !== sel.image) return;
    const read = this.read(sel.read);
    if (!read) return;
    drawShapes(ctx, vp, this.shapes, {
      template: tintedTemplate(this.info.project.template ?? { labels: [] }, read.colour),
      opacity: 0.12,
      selected: null,
      hoverVertex: null,
      visible: () => true,
      maskOf: cachedMaskOf,
      warnLabels: new Set(),
      invalid: new Set(),
      nextKeypoint: null,
    });
    drawChords(ctx, vp, chordsOf(this.data?.reads ?? [], sel.read, sel.image));
  }

  private revision(id: number): Promise<Revision> {
    let p = this.revisions.get(id);
    if (!p) {
      p = getJSON<Revision>(`/api/revisions/${id}`);
      this.revisions.set(id, p);
      p.catch(() => this.revisions.delete(id));
    }
    return p;
  }

  /** Show the image of a cell's result with the read's shapes and the chords drawn. */
  async show(cell: Cell, key: string): Promise<void> {
    const read = this.read(cell.read);
    if (!read || cell.image === null || read.revision === null) return;
    const image = cell.image;
    this.selected = { read: read.id, image, key };
    this.root.dataset.selectedRead = String(read.id);
    this.root.dataset.selectedImage = String(image);
    this.root.dataset.selectedKey = key;
    this.caption.textContent = `${readHeading(read)} · ${imageLabel(this.info.series, image)} · ${
      chordsOf(this.data?.reads ?? [], read.id, image).length
    } chords`;
    for (const c of this.table.querySelectorAll(".cm-cell.on")) c.classList.remove("on");
    this.table.querySelector(`[data-cell="${CSS.escape(`${key}|${read.id}`)}"]`)?.classList.add("on");
    const series = this.info.series.find((s) => s.images.some((im) => im.id === image));
    if (series) {
      const vp =
        this.layout.viewports.find((v) => v.series.orientation === series.orientation) ?? this.layout.viewports[0];
      if (vp) {
        if (vp.series.id !== series.id) vp.setSeries(series);
        vp.setSlice(series.images.findIndex((im) => im.id === image));
        this.layout.setActive(vp);
      }
    }
    this.root.dataset.overlay = "loading";
    const revision = await this.revision(read.revision);
    if (this.selected?.image !== image || this.selected.read !== read.id) return;
    this.shapes = revision.shapes[String(image)] ?? [];
    this.root.dataset.overlay = "ready";
    for (const vp of this.layout.viewports) vp.invalidate(false);
  }

  readonly reload = coalesced(() => this.load());

  private async load(): Promise<void> {
    this.data = await getJSON<CaseMeasurements>(`/api/cases/${this.info.id}/measurements`);
    this.render();
    const sel = this.selected;
    const read = sel ? this.read(sel.read) : undefined;
    if (sel && read && read.revision !== null) {
      // The same value of the read's new head, if it still has one there.
      const cell = { text: "", value: null, read: sel.read, image: sel.image, outside: null };
      void this.show(cell, sel.key);
    }
  }

  private order(image: number): number {
    let k = 0;
    for (const s of this.info.series) {
      const i = s.images.findIndex((im) => im.id === image);
      if (i >= 0) return k * 100_000 + i;
      k++;
    }
    return Number.MAX_SAFE_INTEGER;
  }

  render(): void {
    const data = this.data;
    if (!data) return;
    clear(this.table);
    const reads = data.reads;
    const parts = sections(
      reads,
      (image) => imageLabel(this.info.series, image),
      (image) => this.order(image),
    );
    for (const part of parts) this.table.append(this.section(part, reads));
    this.root.dataset.reads = String(reads.length);
    this.root.dataset.state = "ready";
  }

  private section(part: Section, reads: readonly CaseRead[]): HTMLElement {
    const box = el(
      "section",
      { class: "cm-section", "data-testid": `cm-section-${part.id}` },
      el("h3", {}, part.title),
    );
    if (part.empty && part.id === "main" && reads.length === 0) {
      box.append(el("div", { class: "empty-state", "data-testid": "cm-empty" }, part.empty));
      return box;
    }
    const table = el("table", { class: "cm-table", "data-testid": `cm-table-${part.id}` });
    const head = el("tr", {}, el("th", {}, ""));
    for (const r of reads)
      head.append(
        el(
          "th",
          {
            "data-read": String(r.id),
            "data-kind": r.kind,
            title: `read ${r.id}, revision ${r.revision_number ?? "—"}`,
          },
          el("span", { class: "swatch", style: `background:${r.colour}` }),
          readHeading(r),
        ),
      );
    table.append(head);
    let group = "";
    for (const row of part.rows) {
      if (row.group && row.group !== group) {
        group = row.group;
        table.append(
          el(
            "tr",
            { class: "cm-group", "data-level": row.level ?? "" },
            el("th", { colspan: String(reads.length + 1) }, group),
          ),
        );
      }
      const tr = el("tr", { "data-row": row.key }, el("th", { title: row.title }, row.label));
      for (const cell of row.cells) tr.append(this.cell(cell, row.key));
      table.append(tr);
    }
    box.append(el("div", { class: "cm-scroll" }, table));
    if (part.empty) box.append(el("div", { class: "muted", "data-testid": `cm-empty-${part.id}` }, part.empty));
    return box;
  }

  private cell(cell: Cell, key: string): HTMLElement {
    const td = el("td", {
      class: `cm-cell${cell.outside ? " outside" : ""}`,
      "data-cell": `${key}|${cell.read}`,
      "data-read": String(cell.read),
      "data-key": key,
      "data-value": cell.value === null ? "" : String(cell.value),
      title: cell.outside ?? undefined,
    });
    if (cell.image === null) {
      td.append(cell.text);
      return td;
    }
    const link = el(
      "button",
      { class: "cm-link", type: "button", "data-image": String(cell.image), title: cell.outside ?? "Show the chords" },
      cell.text,
      cell.outside ? el("span", { class: "cm-flag", "aria-label": cell.outside }, " ▲") : null,
    );
    link.addEventListener("click", () => void this.show(cell, key));
    td.append(link);
    return td;
  }

  mount(): void {
    const review = this.root.dataset.mayReview !== undefined;
    const links = el(
      "span",
      { class: "cm-links" },
      el("a", { href: `/cases/${this.info.id}/` }, "Open the case"),
      review ? el("a", { href: `/cases/${this.info.id}/review` }, "Review") : null,
    );
    const appbar = el(
      "div",
      { class: "appbar", "data-testid": "appbar" },
      el("span", { class: "title" }, `Measurements · ${this.info.pseudonym}`),
      el("span", { class: "grow" }),
      links,
    );
    const side = el("aside", { class: "sidepanel cm-side", "data-testid": "sidepanel" }, this.table);
    const viewer = el("div", { class: "cm-viewer" }, this.caption, this.layout.root);
    this.root.append(el("div", { class: "cm-shell" }, appbar, viewer, side));
    new LiveSocket(this.info.id, (e: LiveEvent) => {
      if (e.type !== "pong") void this.reload();
    });
  }
}

function embeddedCase(): CaseInfo | null {
  const node = document.getElementById("case-data");
  try {
    return node?.textContent ? (JSON.parse(node.textContent) as CaseInfo) : null;
  } catch {
    return null;
  }
}

export async function mountCaseMeasurementsPage(root: HTMLElement): Promise<void> {
  const info = embeddedCase();
  if (!info) {
    root.append(el("div", { class: "empty-state" }, "Could not open this case."));
    return;
  }
  const page = new CaseMeasurementsPage(info, root);
  page.mount();
  try {
    await page.reload();
  } catch (e) {
    root.dataset.state = "error";
    toast(`Could not load the measurements: ${e instanceof Error ? e.message : String(e)}`, "error", 10000);
  }
}
