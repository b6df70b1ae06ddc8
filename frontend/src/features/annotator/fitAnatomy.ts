/** Fit to the anatomy: viewports frame the shapes' extent (the pre-label) on open and on F;
 * without shapes, the tissue box (the non-background part of the slice the series opened on). */

import type { Point } from "../../contract/types";
import { boundingBox, tissueBox } from "../../core/geometry";
import { keypointSlice } from "../../core/keypoints";
import type { Viewport, ViewerLayout } from "../viewer";
import type { AnnotationStore } from "./store";

/** Box (x0, y0, x1, y1, image pixels) around every shape of the viewport's series, or null. */
export function shapesExtent(store: AnnotationStore, vp: Viewport): [number, number, number, number] | null {
  const points: Point[] = [];
  for (const im of vp.series.images) for (const s of store.shapesOf(im.id)) points.push(...s.points);
  if (points.length === 0) return null;
  const b = boundingBox(points);
  return [b.x0, b.y0, b.x1, b.y1];
}

type Box = [number, number, number, number];

/** The tissue box of each series, from the first of its slices whose pixels were there (one
 * box per series: scrolling through the slices does not move the view). */
export function tissueExtents(): (vp: Viewport) => Box | null {
  const boxes = new Map<number, Box | null>();
  return (vp) => {
    if (boxes.has(vp.series.id)) return boxes.get(vp.series.id) ?? null;
    const pixels = vp.pixels;
    if (!pixels) return null;
    const box = tissueBox(pixels, vp.series.columns, vp.series.rows);
    boxes.set(vp.series.id, box);
    return box;
  };
}

/** Every fit of the layout's viewports frames the shapes, or the tissue where there are none;
 * the page's first loaded read refits them once, and opens each series on the slice of its
 * corners (later loads, a live update or another read, leave the user's view alone). */
export function installFitToAnatomy(layout: ViewerLayout, store: AnnotationStore): void {
  const tissue = tissueExtents();
  for (const vp of layout.viewports) vp.regionOfInterest = (v) => shapesExtent(store, v) ?? tissue(v);
  let first = true;
  store.onChange((kind) => {
    if (kind !== "load" || !first) return;
    first = false;
    for (const vp of layout.viewports) {
      const slice = keypointSlice(vp.series.images, vp.index, (id) => store.shapesOf(id));
      if (slice !== null) vp.setSlice(slice);
    }
    if (layout.viewports.some((vp) => shapesExtent(store, vp))) for (const vp of layout.viewports) vp.fit();
  });
}
