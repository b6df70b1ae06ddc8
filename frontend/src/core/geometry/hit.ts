/**
 * Hit-testing of labelme shapes at a screen position (tolerances are in screen pixels).
 * Rules, in order: the selected shape's vertex or edge wins; otherwise the nearest vertex or
 * edge of any visible, unlocked shape within the tolerance; otherwise the interior under the
 * pointer (topmost first). `hitCandidates` lists every shape's best hit in that order, so
 * Tab can cycle through overlapping shapes.
 */

import type { Point, Shape } from "../../contract/types";
import { pointInPolygon, rectangleCorners } from "./polygon";

export type HitKind = "vertex" | "edge" | "inside";

export interface Hit {
  shape: number;
  kind: HitKind;
  /** Vertex index for "vertex"; index of the edge's first vertex for "edge"; -1 for "inside". */
  index: number;
  /** For "edge": the point on the edge, in screen coordinates. */
  at?: Point;
  /** Screen distance from the pointer (0 for "inside"). */
  distance: number;
}

export interface HitOptions {
  tolerance: number;
  /** Shapes whose vertex or edge wins over any other's (the selection). */
  selected?: ReadonlySet<number>;
  /** Whether shape i is shown (hidden shapes are never hit). */
  visible?: (i: number) => boolean;
  /** Whether shape i is locked (locked shapes are never hit). */
  locked?: (i: number) => boolean;
  /** For mask shapes: whether the image point lies on the mask. */
  maskContains?: (i: number, imagePoint: Point) => boolean;
  toImage?: (s: Point) => Point;
  /** The same mapping as `toScreen` when it is affine (offset + p × scale): lets the test skip
   * shapes by their cached bounding box and project without allocating. */
  affine?: { offset: Point; scale: Point };
}

/** A vertex this much nearer than an edge of another shape still loses to it: vertices are
 * preferred only when the distances are about equal (a vertex drag is what the user aims at). */
const VERTEX_PREFERENCE = 1.5;

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
    default:
      return { points: pts, closed: false };
  }
}

type Affine = { offset: Point; scale: Point };

/** Screen coordinates of the shape being tested (reused: a pointer move allocates nothing). */
let scratchX = new Float64Array(256);
let scratchY = new Float64Array(256);

const boxes = new WeakMap<Shape, [number, number, number, number]>();

/** Image-space bounding box of a shape's points (cached: shapes are immutable). */
function boxOf(shape: Shape): [number, number, number, number] {
  let b = boxes.get(shape);
  if (!b) {
    b = [Infinity, Infinity, -Infinity, -Infinity];
    for (const p of shape.points) {
      b[0] = Math.min(b[0], p[0]);
      b[1] = Math.min(b[1], p[1]);
      b[2] = Math.max(b[2], p[0]);
      b[3] = Math.max(b[3], p[1]);
    }
    boxes.set(shape, b);
  }
  return b;
}

/** Whether the pointer is farther than tol from the shape's box on screen (a circle's box is
 * not its points' box: never skipped). */
function farFromBox(shape: Shape, s: Point, tol: number, { offset, scale }: Affine): boolean {
  if (shape.shape_type === "circle") return false;
  const [x0, y0, x1, y1] = boxOf(shape);
  const ax = offset[0] + x0 * scale[0];
  const bx = offset[0] + x1 * scale[0];
  const ay = offset[1] + y0 * scale[1];
  const by = offset[1] + y1 * scale[1];
  return (
    s[0] < Math.min(ax, bx) - tol ||
    s[0] > Math.max(ax, bx) + tol ||
    s[1] < Math.min(ay, by) - tol ||
    s[1] > Math.max(ay, by) + tol
  );
}

function project(
  pts: readonly Point[],
  toScreen: (p: Point) => Point,
  affine: Affine | undefined,
  xs: Float64Array,
  ys: Float64Array,
): void {
  if (affine) {
    const [ox, oy] = affine.offset;
    const [kx, ky] = affine.scale;
    for (let k = 0; k < pts.length; k++) {
      xs[k] = ox + pts[k][0] * kx;
      ys[k] = oy + pts[k][1] * ky;
    }
    return;
  }
  for (let k = 0; k < pts.length; k++) {
    const q = toScreen(pts[k]);
    xs[k] = q[0];
    ys[k] = q[1];
  }
}

/** Best vertex or edge hit of one shape within `tol`, or null. */
function borderHit(
  shape: Shape,
  i: number,
  s: Point,
  toScreen: (p: Point) => Point,
  tol: number,
  affine?: Affine,
): Hit | null {
  if (shape.shape_type === "mask") return null;
  if (affine && farFromBox(shape, s, tol, affine)) return null;
  const sx = s[0];
  const sy = s[1];
  if (shape.shape_type === "circle") {
    if (shape.points.length < 2) return null;
    const c = toScreen(shape.points[0]);
    const r = toScreen(shape.points[1]);
    const dr = Math.abs(r[0] - sx) + Math.abs(r[1] - sy) <= 2 * tol ? Math.hypot(r[0] - sx, r[1] - sy) : Infinity;
    if (dr <= tol) return { shape: i, kind: "vertex", index: 1, distance: dr };
    const d = Math.abs(Math.hypot(sx - c[0], sy - c[1]) - Math.hypot(r[0] - c[0], r[1] - c[1]));
    return d <= tol ? { shape: i, kind: "edge", index: 0, distance: d } : null;
  }
  const pts = shape.points;
  const n = pts.length;
  if (n === 0) return null;
  if (scratchX.length < n) {
    scratchX = new Float64Array(2 * n);
    scratchY = new Float64Array(2 * n);
  }
  const xs = scratchX.subarray(0, n);
  const ys = scratchY.subarray(0, n);
  project(pts, toScreen, affine, xs, ys);
  let best: Hit | null = null;
  for (let k = 0; k < n; k++) {
    const dx = xs[k] - sx;
    const dy = ys[k] - sy;
    if (dx > tol || dx < -tol || dy > tol || dy < -tol) continue;
    const d = Math.sqrt(dx * dx + dy * dy);
    if (d <= tol && (!best || d < best.distance)) best = { shape: i, kind: "vertex", index: k, distance: d };
  }
  if (best) return best;
  if (shape.shape_type === "point") return null;
  const { points, closed } = outline(shape);
  if (points !== pts) return edgeHit(points.map(toScreen), closed, i, s, tol);
  return edgeHitXY(xs, ys, closed, i, sx, sy, tol);
}

function edgeHit(scr: Point[], closed: boolean, i: number, s: Point, tol: number): Hit | null {
  const xs = Float64Array.from(scr, (p) => p[0]);
  const ys = Float64Array.from(scr, (p) => p[1]);
  return edgeHitXY(xs, ys, closed, i, s[0], s[1], tol);
}

function edgeHitXY(
  xs: Float64Array,
  ys: Float64Array,
  closed: boolean,
  i: number,
  sx: number,
  sy: number,
  tol: number,
): Hit | null {
  const n = xs.length;
  const m = closed ? n : n - 1;
  let best: Hit | null = null;
  for (let k = 0; k < m; k++) {
    const k2 = k + 1 === n ? 0 : k + 1;
    const ax = xs[k];
    const ay = ys[k];
    const bx = xs[k2];
    const by = ys[k2];
    // Quick reject: the pointer is farther than tol from the segment's box.
    if (sx < Math.min(ax, bx) - tol || sx > Math.max(ax, bx) + tol) continue;
    if (sy < Math.min(ay, by) - tol || sy > Math.max(ay, by) + tol) continue;
    const vx = bx - ax;
    const vy = by - ay;
    const len2 = vx * vx + vy * vy;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((sx - ax) * vx + (sy - ay) * vy) / len2)) : 0;
    const px = ax + t * vx;
    const py = ay + t * vy;
    const d = Math.hypot(sx - px, sy - py);
    if (d <= tol && (!best || d < best.distance))
      best = { shape: i, kind: "edge", index: k, at: [px, py], distance: d };
  }
  return best;
}

function insideHit(shape: Shape, i: number, s: Point, toScreen: (p: Point) => Point, opts: HitOptions): Hit | null {
  const inside: Hit = { shape: i, kind: "inside", index: -1, distance: 0 };
  if (opts.affine && shape.shape_type !== "mask" && farFromBox(shape, s, 0, opts.affine)) return null;
  if (shape.shape_type === "mask") {
    return opts.maskContains && opts.toImage && opts.maskContains(i, opts.toImage(s)) ? inside : null;
  }
  if (shape.shape_type === "circle" && shape.points.length >= 2) {
    const c = toScreen(shape.points[0]);
    const r = toScreen(shape.points[1]);
    return Math.hypot(s[0] - c[0], s[1] - c[1]) <= Math.hypot(r[0] - c[0], r[1] - c[1]) ? inside : null;
  }
  const { points, closed } = outline(shape);
  return closed && points.length >= 3 && pointInPolygon(s, points.map(toScreen)) ? inside : null;
}

/** Ranking distance of a border hit: vertices win over edges at about the same distance. */
function rank(h: Hit): number {
  return h.kind === "vertex" ? h.distance - VERTEX_PREFERENCE : h.distance;
}

/**
 * Every shape's best hit under screen point `s`, best first: the selected shapes' vertex or
 * edge, then other vertices and edges nearest first (ties: topmost), then interiors
 * (selected first, then topmost). Hidden and locked shapes are left out.
 */
export function hitCandidates(
  shapes: readonly Shape[],
  s: Point,
  toScreen: (p: Point) => Point,
  opts: HitOptions,
): Hit[] {
  const tol = opts.tolerance;
  const visible = opts.visible ?? (() => true);
  const locked = opts.locked ?? (() => false);
  const selected = opts.selected ?? new Set<number>();
  const chosen: Hit[] = [];
  const border: Hit[] = [];
  const inside: Hit[] = [];
  for (let i = shapes.length - 1; i >= 0; i--) {
    if (!visible(i) || locked(i)) continue;
    const b = borderHit(shapes[i], i, s, toScreen, tol, opts.affine);
    if (b) (selected.has(i) ? chosen : border).push(b);
    else {
      const h = insideHit(shapes[i], i, s, toScreen, opts);
      if (h) (selected.has(i) ? chosen : inside).push(h);
    }
  }
  // Stable sorts keep the topmost first among equals.
  chosen.sort((a, b) => (a.kind === "inside" ? 1 : 0) - (b.kind === "inside" ? 1 : 0) || rank(a) - rank(b));
  border.sort((a, b) => rank(a) - rank(b));
  const selBorder = chosen.filter((h) => h.kind !== "inside");
  const selInside = chosen.filter((h) => h.kind === "inside");
  return [...selBorder, ...border, ...selInside, ...inside];
}

/** What lies under screen point `s` (the first of `hitCandidates`), or null. */
export function hitTest(
  shapes: readonly Shape[],
  s: Point,
  toScreen: (p: Point) => Point,
  opts: HitOptions,
): Hit | null {
  return hitCandidates(shapes, s, toScreen, opts)[0] ?? null;
}
