/** The text around a viewport's image: corner labels (case, series, slice, position, spacing, window, preset,
 * zoom, loading), the orientation letters on its edges and the status line. */

import type { CaseInfo, SeriesInfo } from "../../contract/types";
import type { ViewTransform } from "../../core/geometry";
import { oppositeLetters, orientationLetters } from "../../core/geometry";
import type { WindowLevel } from "../../core/windowLevel";
import { el } from "../ui";

/** What the corner labels show. */
export interface CornerState {
  caseInfo: CaseInfo;
  series: SeriesInfo;
  index: number;
  wl: WindowLevel;
  presetName: string;
  transform: ViewTransform | null;
}

export class ViewportCorners {
  /** The elements to place over the canvas (the series picker sits under the series label). */
  readonly nodes: HTMLElement[];
  private readonly labels = new Map<string, HTMLElement>();
  private readonly markers: Record<"left" | "right" | "top" | "bottom", HTMLElement>;

  constructor(slot: string, picker: HTMLSelectElement) {
    const label = (name: string, cls = "") => {
      const e = el("div", { class: `vp-label ${cls}`, "data-testid": `${name}-${slot}` });
      this.labels.set(name, e);
      return e;
    };
    const marker = (pos: string) => el("div", { class: `vp-marker vp-marker-${pos}` });
    this.markers = { left: marker("left"), right: marker("right"), top: marker("top"), bottom: marker("bottom") };
    this.nodes = [
      el("div", { class: "vp-corner vp-tl" }, label("case-label", "strong"), label("series-label"), picker),
      el(
        "div",
        { class: "vp-corner vp-tr" },
        label("slice-label", "strong"),
        label("position-label"),
        label("spacing-label"),
      ),
      el("div", { class: "vp-corner vp-bl" }, label("wl-label", "strong"), label("preset-label")),
      el("div", { class: "vp-corner vp-br" }, label("zoom-label"), label("load-label")),
      ...Object.values(this.markers),
      label("status-label", "vp-status"),
    ];
  }

  /** Set a label's text (only when it changed: this runs every frame). */
  private set(name: string, text: string): void {
    const e = this.labels.get(name);
    if (e && e.textContent !== text) e.textContent = text;
  }

  status(text: string): void {
    this.set("status-label", text);
  }

  loading(loaded: number, total: number): void {
    this.set("load-label", loaded < total ? `Loading ${loaded} / ${total}` : "");
  }

  /** Patient directions of the image's edges, from the series' direction cosines. */
  orient(series: SeriesInfo): void {
    const right = orientationLetters(series.row_direction);
    const bottom = orientationLetters(series.column_direction);
    this.markers.right.textContent = right;
    this.markers.left.textContent = oppositeLetters(right);
    this.markers.bottom.textContent = bottom;
    this.markers.top.textContent = oppositeLetters(bottom);
  }

  update({ caseInfo, series: s, index, wl, presetName, transform }: CornerState): void {
    const im = s.images[index];
    const [sr, sc] = s.pixel_spacing;
    this.set("case-label", caseInfo.pseudonym);
    this.set("series-label", `${s.description || "series"} · ${s.orientation}${s.modality ? ` · ${s.modality}` : ""}`);
    this.set("slice-label", `Slice ${index + 1} / ${s.images.length}`);
    this.set(
      "position-label",
      im && im.position !== null && im.position !== undefined ? `Pos ${im.position.toFixed(2)} mm` : "Pos —",
    );
    const thick = s.slice_thickness ? ` · Thk ${s.slice_thickness.toFixed(1)} mm` : "";
    const gap = s.slice_spacing ? ` · Step ${s.slice_spacing.toFixed(2)} mm` : "";
    const unknown = s.spacing_known === false ? " (spacing unknown)" : "";
    this.set("spacing-label", `Pixel ${sr.toFixed(3)} × ${sc.toFixed(3)} mm${thick}${gap}${unknown}`);
    this.set("wl-label", `W ${fmt(wl.width)}  L ${fmt(wl.center)}${wl.invert ? "  INV" : ""}`);
    this.set("preset-label", presetName);
    this.set("zoom-label", transform ? `Zoom ${(transform.zoom * sc).toFixed(2)}×` : "");
  }
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toPrecision(3);
}
