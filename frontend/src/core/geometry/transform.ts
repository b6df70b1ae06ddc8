/** The view transform: image pixels ↔ screen pixels, with anisotropic pixel spacing respected. */

import type { Point } from "../../contract/types";

export interface ViewTransform {
  /** Screen pixels per millimetre. */
  zoom: number;
  /** Screen position of the image origin (top-left corner of the top-left pixel). */
  panX: number;
  panY: number;
  /** Millimetres per pixel along rows (y) and columns (x). */
  spacingRow: number;
  spacingCol: number;
}

export function imageToScreen(t: ViewTransform, p: Point): Point {
  return [t.panX + p[0] * t.spacingCol * t.zoom, t.panY + p[1] * t.spacingRow * t.zoom];
}

export function screenToImage(t: ViewTransform, s: Point): Point {
  return [(s[0] - t.panX) / (t.spacingCol * t.zoom), (s[1] - t.panY) / (t.spacingRow * t.zoom)];
}

/** Screen pixels covered by one image pixel along x and y. */
export function pixelScale(t: ViewTransform): Point {
  return [t.spacingCol * t.zoom, t.spacingRow * t.zoom];
}

/** Largest centred view of a columns × rows image (in physical proportions) inside a viewW × viewH box. */
export function fitTransform(args: {
  viewW: number;
  viewH: number;
  columns: number;
  rows: number;
  spacingRow: number;
  spacingCol: number;
  margin?: number;
}): ViewTransform {
  const { viewW, viewH, columns, rows, spacingRow, spacingCol } = args;
  const margin = args.margin ?? 0;
  const physW = columns * spacingCol;
  const physH = rows * spacingRow;
  const zoom = Math.max(1e-6, Math.min((viewW - 2 * margin) / physW, (viewH - 2 * margin) / physH));
  return {
    zoom,
    panX: (viewW - physW * zoom) / 2,
    panY: (viewH - physH * zoom) / 2,
    spacingRow,
    spacingCol,
  };
}

/** Zoom by `factor` keeping the screen point (sx, sy) over the same image point. */
export function zoomAt(t: ViewTransform, factor: number, sx: number, sy: number): ViewTransform {
  const zoom = Math.min(1e4, Math.max(1e-4, t.zoom * factor));
  const f = zoom / t.zoom;
  return { ...t, zoom, panX: sx - (sx - t.panX) * f, panY: sy - (sy - t.panY) * f };
}

export function panBy(t: ViewTransform, dx: number, dy: number): ViewTransform {
  return { ...t, panX: t.panX + dx, panY: t.panY + dy };
}

/**
 * View centred on an image box (x0, y0, x1, y1 in image pixels) that fills `fill` of the
 * viewport along its tighter side: the region of interest (the pre-label's extent) framed,
 * never zoomed out below the whole-image fit nor in past `maxZoomOverFit` times it.
 */
export function fitBoxTransform(args: {
  viewW: number;
  viewH: number;
  columns: number;
  rows: number;
  spacingRow: number;
  spacingCol: number;
  box: [number, number, number, number];
  fill?: number;
  maxZoomOverFit?: number;
}): ViewTransform {
  const { viewW, viewH, spacingRow, spacingCol, box } = args;
  const whole = fitTransform({ ...args, margin: 8 });
  const fill = args.fill ?? 0.75;
  const w = Math.max(1, box[2] - box[0]) * spacingCol;
  const h = Math.max(1, box[3] - box[1]) * spacingRow;
  const zoom = Math.min(
    whole.zoom * (args.maxZoomOverFit ?? 6),
    Math.max(whole.zoom, Math.min((viewW * fill) / w, (viewH * fill) / h)),
  );
  const cx = ((box[0] + box[2]) / 2) * spacingCol * zoom;
  const cy = ((box[1] + box[3]) / 2) * spacingRow * zoom;
  return { zoom, panX: viewW / 2 - cx, panY: viewH / 2 - cy, spacingRow, spacingCol };
}
