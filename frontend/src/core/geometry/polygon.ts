/** Polygon and point-set geometry in image pixel coordinates. */

import type { Point } from "../../contract/types";

/** Signed shoelace area in pixel² (positive for counter-clockwise in a y-up frame). */
export function signedArea(points: readonly Point[]): number {
  let a = 0;
  const n = points.length;
  for (let i = 0; i < n; i++) {
    const p = points[i];
    const q = points[(i + 1) % n];
    a += p[0] * q[1] - q[0] * p[1];
  }
  return a / 2;
}

export function polygonArea(points: readonly Point[]): number {
  return Math.abs(signedArea(points));
}

/** Polygon area in mm² with anisotropic spacing (one pixel is spacingCol × spacingRow). */
export function polygonAreaMm2(points: readonly Point[], spacingRow: number, spacingCol: number): number {
  return polygonArea(points) * spacingRow * spacingCol;
}

/** Even-odd point-in-polygon test. */
export function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  const n = poly.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = poly[i];
    const b = poly[j];
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) {
      inside = !inside;
    }
  }
  return inside;
}

export function distinctPointCount(points: readonly Point[]): number {
  const seen = new Set<string>();
  for (const p of points) seen.add(`${p[0]},${p[1]}`);
  return seen.size;
}

/** Distance from p to segment ab and the parameter t ∈ [0, 1] of the closest point. */
export function distanceToSegment(p: Point, a: Point, b: Point): { distance: number; t: number } {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  const cx = a[0] + t * dx;
  const cy = a[1] + t * dy;
  return { distance: Math.hypot(p[0] - cx, p[1] - cy), t };
}

/** Insert a vertex after index `after` (on the edge after → after + 1). Returns a new array. */
export function insertVertex(points: readonly Point[], after: number, p: Point): Point[] {
  if (after < 0 || after >= points.length) throw new Error(`no edge after vertex ${after}`);
  const out = points.slice();
  out.splice(after + 1, 0, [p[0], p[1]]);
  return out;
}

/** Delete vertex `index`, refusing to go below `minPoints`. Returns null when refused. */
export function deleteVertex(points: readonly Point[], index: number, minPoints: number): Point[] | null {
  if (index < 0 || index >= points.length) return null;
  if (points.length - 1 < minPoints) return null;
  const out = points.slice();
  out.splice(index, 1);
  return out;
}

export function translatePoints(points: readonly Point[], dx: number, dy: number): Point[] {
  return points.map((p) => [p[0] + dx, p[1] + dy] as Point);
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function boundingBox(points: readonly Point[]): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p[0]);
    y0 = Math.min(y0, p[1]);
    x1 = Math.max(x1, p[0]);
    y1 = Math.max(y1, p[1]);
  }
  return { x0, y0, x1, y1 };
}

/** The four corners of a labelme rectangle given by two opposite corners. */
export function rectangleCorners(a: Point, b: Point): Point[] {
  return [
    [a[0], a[1]],
    [b[0], a[1]],
    [b[0], b[1]],
    [a[0], b[1]],
  ];
}

/** Clamp a point into the image rectangle [0, columns] × [0, rows]. */
export function clampToImage(p: Point, columns: number, rows: number): Point {
  return [Math.min(columns, Math.max(0, p[0])), Math.min(rows, Math.max(0, p[1]))];
}
