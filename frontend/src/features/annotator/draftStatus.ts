/** The status bar's account of the shape being drawn: a polygon's point count, a caliper's length in mm. */

import { formatMm } from "../../core/geometry";
import { el } from "../ui";
import type { DraftView } from "./tools";

export function draftText(d: DraftView | null): string {
  if (!d) return "";
  if (d.tool === "polygon") return `Polygon: ${d.points.length} point${d.points.length === 1 ? "" : "s"}`;
  if (d.tool === "line" && d.lengthMm !== null) return `Caliper: ${formatMm(d.lengthMm)}`;
  if (d.tool === "rectangle" && d.cursor) {
    const [sr, sc] = d.view.series.pixel_spacing;
    const [a, b] = [d.points[0], d.cursor];
    return `Rectangle: ${formatMm(Math.abs(b[0] - a[0]) * sc)} × ${formatMm(Math.abs(b[1] - a[1]) * sr)}`;
  }
  return "";
}

/** A status bar element that `update` keeps in step with the draft (cheap: called on every pointer move). */
export function draftStatus(): { root: HTMLElement; update(d: DraftView | null): void } {
  const root = el("span", { class: "draft-status", "data-testid": "draft-status" });
  return {
    root,
    update: (d) => {
      const text = draftText(d);
      if (root.textContent !== text) root.textContent = text;
    },
  };
}
