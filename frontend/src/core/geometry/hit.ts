/** Hit-testing of labelme shapes at a screen position (tolerances are in screen pixels). */

import type { Point, Shape } from "../../contract/types";
import { distanceToSegment, pointInPolygon, rectangleCorners } from "./polygon";

export type HitKind = "vertex" | "edge" | "inside";

export interface Hit {
  shape: number;
  kind: HitKind;
  /** Vertex index for "vertex"; index of the edge's first vertex for "edge". */
  index: number;
  /** For "edge": the point on the edge, in screen coordinates. */
  at?: Point;
}

export interface HitOptions {
  tolerance: number;
  /** Shapes tested first for their vertices (the selection). */
  selected?: ReadonlySet<number>;
  /** Whether shape i is shown (hidden shapes are never hit). */
  visible?: (i: number) => boolean;
  /** For mask shapes: whether the image point lies on the mask. */
  maskContains?: (i: number, imagePoint: Point) => boolean;
  toImage?: (s: Point) => Point;
}

/** The outline a shape is drawn with, in image coordinates, and whether it is closed. */
export function outline(shape: Shape): { points: Point[]; closed: boolean } {
  const pts = shape.points;
  switch (shape.shape_type) {
    case "polygon":
      return { points: pts, closed: true };
    case "rectangle":
    case "mask":
      return pts.length >= 2
        ? { points: rectangleCorners(pts[0], pts[1]), closed: true }
        : { points: pts, closed: false };
    case "line":
    case "linestrip":
      return { points: pts, closed: false };
    default:
      return { points: pts, closed: false };
  }
}

function vertexHit(shape: Shape, s: Point, toScreen: (p: Point) => Point, tol: number): number {
  let best = -1;
  let bestD = tol;
  shape.points.forEach((p, k) => {
    const q = toScreen(p);
    const d = Math.hypot(q[0] - s[0], q[1] - s[1]);
    if (d <= bestD) {
      bestD = d;
      best = k;
    }
  });
  return best;
}

/** Find what lies under screen point `s`: selected shapes' vertices first, then any vertex, edge, interior. */
export function hitTest(
  shapes: readonly Shape[],
  s: Point,
  toScreen: (p: Point) => Point,
  opts: HitOptions,
): Hit | null {
  const tol = opts.tolerance;
  const visible = opts.visible ?? (() => true);
  const order = shapes.map((_, i) => i).reverse(); // topmost (last drawn) first
  const selected = opts.selected ?? new Set<number>();
  for (const i of order) {
    if (!selected.has(i) || !visible(i)) continue;
    const sh = shapes[i];
    if (sh.shape_type === "mask") continue;
    const k = vertexHit(sh, s, toScreen, tol);
    if (k >= 0) return { shape: i, kind: "vertex", index: k };
  }
  for (const i of order) {
    if (!visible(i)) continue;
    const sh = shapes[i];
    if (sh.shape_type === "mask") continue;
    const k = vertexHit(sh, s, toScreen, tol);
    if (k >= 0) return { shape: i, kind: "vertex", index: k };
  }
  for (const i of order) {
    if (!visible(i)) continue;
    const sh = shapes[i];
    if (sh.shape_type === "point" || sh.shape_type === "mask") continue;
    if (sh.shape_type === "circle") {
      if (sh.points.length < 2) continue;
      const c = toScreen(sh.points[0]);
      const r = toScreen(sh.points[1]);
      const radius = Math.hypot(r[0] - c[0], r[1] - c[1]);
      if (Math.abs(Math.hypot(s[0] - c[0], s[1] - c[1]) - radius) <= tol) return { shape: i, kind: "edge", index: 0 };
      continue;
    }
    const { points, closed } = outline(sh);
    const scr = points.map(toScreen);
    const m = closed ? scr.length : scr.length - 1;
    for (let k = 0; k < m; k++) {
      const a = scr[k];
      const b = scr[(k + 1) % scr.length];
      const { distance, t } = distanceToSegment(s, a, b);
      if (distance <= tol) {
        return { shape: i, kind: "edge", index: k, at: [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])] };
      }
    }
  }
  for (const i of order) {
    if (!visible(i)) continue;
    const sh = shapes[i];
    if (sh.shape_type === "mask") {
      if (opts.maskContains && opts.toImage && opts.maskContains(i, opts.toImage(s)))
        return { shape: i, kind: "inside", index: -1 };
      continue;
    }
    if (sh.shape_type === "circle" && sh.points.length >= 2) {
      const c = toScreen(sh.points[0]);
      const r = toScreen(sh.points[1]);
      if (Math.hypot(s[0] - c[0], s[1] - c[1]) <= Math.hypot(r[0] - c[0], r[1] - c[1]))
        return { shape: i, kind: "inside", index: -1 };
      continue;
    }
    const { points, closed } = outline(sh);
    if (closed && points.length >= 3 && pointInPolygon(s, points.map(toScreen)))
      return { shape: i, kind: "inside", index: -1 };
  }
  return null;
}
