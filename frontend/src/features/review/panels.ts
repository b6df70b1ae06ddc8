/** Side panels of the review page: the legend of reads (toggle each), the agreement of two reads, the measurements. */

import { clear, el } from "../ui";
import type { ReadMeasurements, ReviewPayload, ReviewRead } from "./api";
import type { ImageLabel } from "./model";
import { agreementCells, defaultPair, measurementRows, pairOf } from "./model";

export function readLabel(r: ReviewRead): string {
  const who = r.author?.username ?? r.name;
  const rev = r.head ? `rev ${r.head.number}` : "empty";
  return r.kind === "human" ? `${r.title} · ${who} · ${rev}` : `${r.title} · ${rev}`;
}

/** The short name of a read in selectors: "Annotator (alice)", "Model". */
export function readShortLabel(r: ReviewRead): string {
  return r.kind === "human" ? `${r.title} (${r.author?.username ?? r.name})` : r.title;
}

/** One row per read: its colour, a checkbox that shows or hides it on the images. */
export function renderLegend(host: HTMLElement, payload: ReviewPayload, shown: Set<number>, redraw: () => void): void {
  clear(host);
  for (const r of payload.reads) {
    const box = el("input", { type: "checkbox", "data-testid": `show-read-${r.id}` });
    box.checked = shown.has(r.id);
    box.addEventListener("change", () => {
      if (box.checked) shown.add(r.id);
      else shown.delete(r.id);
      redraw();
    });
    host.append(
      el(
        "label",
        { class: "row review-read", "data-read": String(r.id), "data-key": r.key },
        box,
        el("span", { class: "swatch", style: `background:${r.colour}` }),
        el("span", { class: "grow", title: readLabel(r) }, readLabel(r)),
        r.submitted_at ? el("span", { class: "dim" }, "submitted") : null,
      ),
    );
  }
  if (payload.reads.length === 0) host.append(el("div", { class: "muted" }, "No reads yet."));
}

function readSelect(reads: readonly ReviewRead[], value: number, testid: string): HTMLSelectElement {
  const s = el("select", { "data-testid": testid });
  for (const r of reads) s.append(el("option", { value: String(r.id) }, readShortLabel(r)));
  s.value = String(value);
  return s;
}

/** Agreement of two chosen reads per structure: Dice and HD95 for areas, mean and max radial error for keypoints. */
export function renderAgreement(host: HTMLElement, payload: ReviewPayload): void {
  clear(host);
  const pair = defaultPair(payload.reads);
  if (!pair) {
    host.append(el("div", { class: "muted" }, "Agreement needs two reads."));
    return;
  }
  const a = readSelect(payload.reads, pair[0], "agreement-a");
  const b = readSelect(payload.reads, pair[1], "agreement-b");
  const table = el("table", { class: "review-table", "data-testid": "agreement-table" });
  const fill = () => {
    clear(table);
    const found = pairOf(payload.agreement, Number(a.value), Number(b.value));
    table.append(el("tr", {}, el("th", {}, "Structure"), el("th", {}, "Dice / mean"), el("th", {}, "HD95 / max")));
    for (const s of payload.structures) {
      const [first, second] = found ? agreementCells(found[s]) : ["—", "—"];
      table.append(el("tr", { "data-structure": s }, el("td", {}, s), el("td", {}, first), el("td", {}, second)));
    }
    if (Number(a.value) === Number(b.value))
      table.append(el("tr", {}, el("td", { colspan: "3", class: "muted" }, "Choose two different reads.")));
  };
  a.addEventListener("change", fill);
  b.addEventListener("change", fill);
  host.append(el("div", { class: "review-pair" }, a, el("span", { class: "dim" }, "vs"), b), table);
  fill();
}

/** MSCC, MCC, level, TA and CR of every read's head, one column per read, in its colour. */
export function renderMeasurements(
  host: HTMLElement,
  reads: readonly ReviewRead[],
  measured: readonly ReadMeasurements[],
  images: ReadonlyMap<number, ImageLabel>,
): void {
  clear(host);
  const table = el("table", { class: "review-table", "data-testid": "measurements-table" });
  table.append(
    el(
      "tr",
      {},
      el("th", {}, ""),
      ...reads.map((r) =>
        el("th", { title: readLabel(r) }, el("span", { class: "swatch", style: `background:${r.colour}` }), r.title),
      ),
    ),
  );
  for (const row of measurementRows(reads, measured, images)) {
    table.append(el("tr", {}, el("th", {}, row.label), ...row.cells.map((c) => el("td", {}, c))));
  }
  host.append(el("div", { class: "review-scroll" }, table));
}
