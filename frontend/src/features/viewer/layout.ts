/** Viewport layout of a case: sagittal and axial side by side when both exist, one viewport otherwise. */

import type { CaseInfo, SeriesInfo } from "../../contract/types";
import { el } from "../ui";
import { PixelCache } from "./pixelCache";
import { Viewport } from "./viewport";

export interface ViewerLayout {
  root: HTMLElement;
  viewports: Viewport[];
  cache: PixelCache;
  active(): Viewport;
  setActive(vp: Viewport): void;
  onActiveChange(fn: (vp: Viewport) => void): void;
}

/** The series shown first for an orientation: the one with most slices (usually the T2 main series). */
function pick(series: SeriesInfo[], orientation: string): SeriesInfo | undefined {
  return series
    .filter((s) => s.orientation === orientation && s.images.length > 0)
    .sort((a, b) => b.images.length - a.images.length)[0];
}

export function createViewerLayout(caseInfo: CaseInfo): ViewerLayout {
  const cache = new PixelCache(6);
  const usable = caseInfo.series.filter((s) => s.images.length > 0);
  const sag = pick(usable, "sagittal");
  const ax = pick(usable, "axial");
  const viewports: Viewport[] = [];
  if (sag && ax) {
    viewports.push(new Viewport("sagittal", sag, usable, caseInfo, cache));
    viewports.push(new Viewport("axial", ax, usable, caseInfo, cache));
  } else if (usable.length > 0) {
    const first = sag ?? ax ?? usable[0];
    viewports.push(new Viewport(first.orientation, first, usable, caseInfo, cache));
  }
  const root = el("div", {
    class: `viewports layout-${viewports.length === 2 ? "1x2" : "1x1"}`,
    "data-testid": "viewports",
  });
  if (viewports.length === 0)
    root.append(el("div", { class: "empty-state", "data-testid": "no-series" }, "This case has no images yet."));
  let active = viewports[0];
  const listeners: ((vp: Viewport) => void)[] = [];
  const setActive = (vp: Viewport) => {
    if (vp === active) return;
    active = vp;
    for (const v of viewports) v.root.classList.toggle("active", v === vp);
    for (const l of listeners) l(vp);
  };
  for (const vp of viewports) {
    root.append(vp.root);
    vp.activateListener = setActive;
  }
  active?.root.classList.add("active");
  return { root, viewports, cache, active: () => active, setActive, onActiveChange: (fn) => listeners.push(fn) };
}

/** Open the viewer on an image of the case: the first viewport that can show its series (the one of
 * its orientation when there are two) switches to that series and slice and becomes active; false
 * when no viewport can show it. */
export function showImage(layout: ViewerLayout, imageId: number): boolean {
  for (const vp of layout.viewports) {
    const series = vp.seriesChoices.find((s) => s.images.some((im) => im.id === imageId));
    if (!series || (series.orientation !== vp.series.orientation && layout.viewports.length > 1)) continue;
    if (series.id !== vp.series.id) vp.setSeries(series);
    vp.setSlice(series.images.findIndex((im) => im.id === imageId));
    layout.setActive(vp);
    return true;
  }
  return false;
}
