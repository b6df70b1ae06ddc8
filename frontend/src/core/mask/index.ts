/** Binary masks: labelme `mask` shapes (bbox + base64 PNG) and brush painting, without the DOM. */

import type { Point, Shape } from "../../contract/types";
import { base64ToBytes, bytesToBase64 } from "./base64";
import type { BinaryMask } from "./png";
import { decodeMaskPng, encodeMaskPng } from "./png";

export type { BinaryMask } from "./png";
export { base64ToBytes, bytesToBase64 } from "./base64";
export { decodeMaskPng, encodeMaskPng } from "./png";

/** A mask placed on the image: its crop starts at integer pixel (x0, y0). */
export interface PlacedMask extends BinaryMask {
  x0: number;
  y0: number;
}

/** Decode a labelme mask shape (points = the bbox corners, inclusive pixel indices as labelme writes them). */
export function maskFromShape(shape: Shape): PlacedMask {
  if (typeof shape.mask !== "string" || !shape.mask) throw new Error("mask shape has no PNG data");
  const m = decodeMaskPng(base64ToBytes(shape.mask));
  const p = shape.points[0] ?? [0, 0];
  return { ...m, x0: Math.round(p[0]), y0: Math.round(p[1]) };
}

/** Tighten a placed mask to the bbox of its set pixels; null when empty. */
const decoded = new WeakMap<Shape, PlacedMask | null>();

/** maskFromShape, decoded once per shape object; null for a mask that does not decode (drawn as nothing). */
export function cachedMaskOf(shape: Shape): PlacedMask | null {
  if (!decoded.has(shape)) {
    try {
      decoded.set(shape, maskFromShape(shape));
    } catch {
      decoded.set(shape, null);
    }
  }
  return decoded.get(shape) ?? null;
}

export function cropMask(m: PlacedMask): PlacedMask | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      if (m.data[y * m.width + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) data.set(m.data.subarray((y + y0) * m.width + x0, (y + y0) * m.width + x0 + w), y * w);
  return { width: w, height: h, data, x0: m.x0 + x0, y0: m.y0 + y0 };
}

/** labelme fields of a placed mask: bbox corners (inclusive) and the base64 PNG. */
export function maskToShapeFields(m: PlacedMask): { points: Point[]; mask: string } {
  return {
    points: [
      [m.x0, m.y0],
      [m.x0 + m.width - 1, m.y0 + m.height - 1],
    ],
    mask: bytesToBase64(encodeMaskPng(m)),
  };
}

/** Grow a placed mask so it covers [x0, x1] × [y0, y1] (inclusive), clipped to the image. */
export function growMask(
  m: PlacedMask | null,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  columns: number,
  rows: number,
): PlacedMask {
  const nx0 = Math.max(0, Math.min(m ? m.x0 : x0, x0));
  const ny0 = Math.max(0, Math.min(m ? m.y0 : y0, y0));
  const nx1 = Math.min(columns - 1, Math.max(m ? m.x0 + m.width - 1 : x1, x1));
  const ny1 = Math.min(rows - 1, Math.max(m ? m.y0 + m.height - 1 : y1, y1));
  const w = Math.max(1, nx1 - nx0 + 1);
  const h = Math.max(1, ny1 - ny0 + 1);
  if (m && m.x0 === nx0 && m.y0 === ny0 && m.width === w && m.height === h) return m;
  const data = new Uint8Array(w * h);
  if (m) {
    for (let y = 0; y < m.height; y++) {
      const ty = y + m.y0 - ny0;
      if (ty < 0 || ty >= h) continue;
      for (let x = 0; x < m.width; x++) {
        const tx = x + m.x0 - nx0;
        if (tx >= 0 && tx < w && m.data[y * m.width + x]) data[ty * w + tx] = 1;
      }
    }
  }
  return { width: w, height: h, data, x0: nx0, y0: ny0 };
}

/**
 * Paint (value 1) or erase (value 0) a disc of `radius` image pixels centred at image point c.
 * Pixel (i, j) is covered when its centre (i + 0.5, j + 0.5) lies in the disc; radius in pixels
 * along each axis (rx, ry) so the brush is round in millimetres on anisotropic images.
 */
export function paintDisc(
  m: PlacedMask | null,
  c: Point,
  rx: number,
  ry: number,
  value: 0 | 1,
  columns: number,
  rows: number,
): PlacedMask | null {
  const x0 = Math.floor(c[0] - rx);
  const x1 = Math.ceil(c[0] + rx);
  const y0 = Math.floor(c[1] - ry);
  const y1 = Math.ceil(c[1] + ry);
  if (value === 0 && !m) return null;
  const target = value === 1 ? growMask(m, x0, y0, x1, y1, columns, rows) : (m as PlacedMask);
  for (let j = Math.max(y0, target.y0); j <= Math.min(y1, target.y0 + target.height - 1); j++) {
    for (let i = Math.max(x0, target.x0); i <= Math.min(x1, target.x0 + target.width - 1); i++) {
      const dx = (i + 0.5 - c[0]) / rx;
      const dy = (j + 0.5 - c[1]) / ry;
      if (dx * dx + dy * dy <= 1) target.data[(j - target.y0) * target.width + (i - target.x0)] = value;
    }
  }
  return target;
}

/** Paint a stroke segment from a to b (a run of discs at sub-radius steps). */
export function paintStroke(
  m: PlacedMask | null,
  a: Point,
  b: Point,
  rx: number,
  ry: number,
  value: 0 | 1,
  columns: number,
  rows: number,
): PlacedMask | null {
  const steps = Math.max(1, Math.ceil(Math.hypot((b[0] - a[0]) / rx, (b[1] - a[1]) / ry) * 2));
  let cur = m;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    cur = paintDisc(cur, [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t], rx, ry, value, columns, rows);
  }
  return cur;
}

export function maskContains(m: PlacedMask, p: Point): boolean {
  const x = Math.floor(p[0]) - m.x0;
  const y = Math.floor(p[1]) - m.y0;
  return x >= 0 && y >= 0 && x < m.width && y < m.height && m.data[y * m.width + x] === 1;
}

export function maskPixelCount(m: PlacedMask): number {
  let n = 0;
  for (let i = 0; i < m.data.length; i++) n += m.data[i];
  return n;
}

export function cloneMask(m: PlacedMask): PlacedMask {
  return { ...m, data: m.data.slice() };
}
