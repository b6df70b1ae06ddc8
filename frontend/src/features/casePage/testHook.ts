/**
 * `window.__annotator`: a read-only hook for browser tests (Playwright), like `window.__viewerStats`.
 * It maps image pixels (labelme coordinates) to client CSS pixels per viewport, so a test can click
 * at an exact anatomical point, and reports the tool's draft (the live caliper length).
 */

import type { Point, Shape } from "../../contract/types";
import { lengthMm } from "../../core/geometry";
import type { AnnotatorParts } from "../annotator";
import type { ViewerLayout, Viewport } from "../viewer";

export interface AnnotatorHook {
  /** Viewport slots shown ("sagittal", "axial", or the one orientation). */
  slots(): string[];
  /** Image id and 0-based slice index shown in a viewport. */
  slice(slot: string): { imageId: number | null; index: number };
  /** Client (page CSS pixel) position of the image point (x, y) on a viewport. */
  toClient(slot: string, x: number, y: number): Point;
  /** Image point under a client position on a viewport. */
  toImage(slot: string, clientX: number, clientY: number): Point;
  /** The shapes of the read on the slice shown in a viewport (as they would be saved). */
  shapes(slot: string): Shape[];
  /** The shape being drawn: its tool, points, the cursor, and for lines the live length in mm. */
  draft(): { tool: string; points: Point[]; cursor: Point | null; lengthMm: number | null };
}

declare global {
  interface Window {
    __annotator?: AnnotatorHook;
  }
}

export function installTestHook(layout: ViewerLayout, annotator: AnnotatorParts | null): void {
  const vp = (slot: string): Viewport => {
    const found = layout.viewports.find((v) => v.slot === slot);
    if (!found) throw new Error(`no viewport ${slot}; shown: ${layout.viewports.map((v) => v.slot).join(", ")}`);
    return found;
  };
  window.__annotator = {
    slots: () => layout.viewports.map((v) => v.slot),
    slice: (slot) => ({ imageId: vp(slot).currentImageId, index: vp(slot).index }),
    toClient: (slot, x, y) => {
      const v = vp(slot);
      const r = v.canvas.getBoundingClientRect();
      const [sx, sy] = v.toScreen([x, y]);
      return [r.left + sx, r.top + sy];
    },
    toImage: (slot, clientX, clientY) => {
      const v = vp(slot);
      const r = v.canvas.getBoundingClientRect();
      return v.toImage([clientX - r.left, clientY - r.top]);
    },
    shapes: (slot) => (annotator ? annotator.store.shapesOf(vp(slot).currentImageId).slice() : []),
    draft: () => {
      const tool = annotator?.tool;
      if (!tool) return { tool: "navigate", points: [], cursor: null, lengthMm: null };
      const points = tool.draft.slice();
      const cursor = tool.cursorImage;
      const view = tool.draftView;
      let mm: number | null = null;
      if (tool.name === "line" && view && points[0] && cursor) {
        const [sr, sc] = view.series.pixel_spacing;
        mm = lengthMm(points[0], cursor, sr, sc);
      }
      return { tool: tool.name, points, cursor, lengthMm: mm };
    },
  };
}
