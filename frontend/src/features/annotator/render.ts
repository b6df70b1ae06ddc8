/** Drawing of shapes, drafts, keypoint names, caliper lengths and measurement chords on a viewport. */

import type { Chord, Point, Shape, Template } from "../../contract/types";
import { formatMm, lengthMm, outline } from "../../core/geometry";
import type { PlacedMask } from "../../core/mask";
import type { Viewport } from "../viewer";

const maskCanvases = new WeakMap<PlacedMask, { colour: string; canvas: HTMLCanvasElement }>();

export function labelColour(template: Template, label: string): string {
  const l = template.labels.find((x) => x.name === label);
  if (l) return l.color;
  const set = (template.keypoint_sets ?? []).find((k) => k.points.includes(label));
  if (set) return set.color ?? "#ffd166";
  return "#e6e6e6";
}

function rgba(hex: string, alpha: number): string {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function maskCanvas(m: PlacedMask, colour: string): HTMLCanvasElement {
  const hit = maskCanvases.get(m);
  if (hit && hit.colour === colour) return hit.canvas;
  const c = document.createElement("canvas");
  c.width = m.width;
  c.height = m.height;
  const ctx = c.getContext("2d") as CanvasRenderingContext2D;
  const img = ctx.createImageData(m.width, m.height);
  const n = parseInt(colour.replace("#", "").slice(0, 6), 16) || 0xffffff;
  const r = (n >> 16) & 255;
  const g = (n >> 8) & 255;
  const b = n & 255;
  for (let i = 0; i < m.data.length; i++) {
    if (m.data[i]) {
      img.data[i * 4] = r;
      img.data[i * 4 + 1] = g;
      img.data[i * 4 + 2] = b;
      img.data[i * 4 + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  maskCanvases.set(m, { colour, canvas: c });
  return c;
}

/** Drop the cached bitmap of a mask that was painted in place. */
export function forgetMaskCanvas(m: PlacedMask): void {
  maskCanvases.delete(m);
}

export interface DrawOptions {
  template: Template;
  opacity: number;
  selected: number | null;
  hoverVertex: { shape: number; index: number } | null;
  /** The shape a press would take (outlined before the drag starts). */
  hoverShape?: number | null;
  /** Locked shapes are drawn dashed. */
  locked?: (s: Shape) => boolean;
  visible: (s: Shape) => boolean;
  maskOf: (s: Shape) => PlacedMask | null;
  warnLabels: ReadonlySet<string>;
  invalid: ReadonlySet<number>;
  nextKeypoint: string | null;
}

function textTag(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, colour: string): void {
  ctx.font = "600 11px ui-monospace, Menlo, Consolas, monospace";
  const w = ctx.measureText(text).width;
  ctx.fillStyle = "rgba(0,0,0,.65)";
  ctx.fillRect(x - 2, y - 11, w + 4, 14);
  ctx.fillStyle = colour;
  ctx.fillText(text, x, y);
}

/** A white halo under the current path: the shape the pointer would take. */
function haloStroke(ctx: CanvasRenderingContext2D): void {
  const w = ctx.lineWidth;
  const c = ctx.strokeStyle;
  ctx.lineWidth = w + 3;
  ctx.strokeStyle = "rgba(255,255,255,.85)";
  ctx.stroke();
  ctx.lineWidth = w;
  ctx.strokeStyle = c;
}

/** The template with every label and keypoint set in one colour: a read drawn in its legend colour. */
export function tintedTemplate(template: Template, colour: string): Template {
  return {
    ...template,
    labels: (template.labels ?? []).map((l) => ({ ...l, color: colour })),
    keypoint_sets: (template.keypoint_sets ?? []).map((k) => ({ ...k, color: colour })),
  };
}

export function drawShapes(
  ctx: CanvasRenderingContext2D,
  vp: Viewport,
  shapes: readonly Shape[],
  o: DrawOptions,
): void {
  const [sr, sc] = vp.series.pixel_spacing;
  const [kx, ky] = vp.scale;
  shapes.forEach((s, i) => {
    if (!o.visible(s)) return;
    const colour = o.invalid.has(i) ? "#f85149" : labelColour(o.template, s.label);
    const sel = o.selected === i;
    ctx.lineWidth = sel ? 2.2 : 1.5;
    ctx.strokeStyle = colour;
    ctx.fillStyle = rgba(colour, o.opacity);
    if (s.shape_type === "mask") {
      const m = o.maskOf(s);
      if (m) {
        const [x, y] = vp.toScreen([m.x0, m.y0]);
        ctx.save();
        ctx.globalAlpha = Math.min(1, o.opacity + (sel ? 0.2 : 0));
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(maskCanvas(m, colour), x, y, m.width * kx, m.height * ky);
        ctx.restore();
        if (sel) {
          ctx.setLineDash([4, 3]);
          ctx.strokeRect(x, y, m.width * kx, m.height * ky);
          ctx.setLineDash([]);
        }
      }
      return;
    }
    if (s.shape_type === "point") {
      const p = s.points[0];
      if (!p) return;
      const [x, y] = vp.toScreen(p);
      const warn = o.warnLabels.has(s.label);
      ctx.beginPath();
      ctx.arc(x, y, sel ? 5 : 4, 0, Math.PI * 2);
      ctx.fillStyle = warn ? "#f85149" : colour;
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = sel ? "#fff" : "rgba(0,0,0,.8)";
      ctx.stroke();
      // Only the selected or hovered point is named (20 corner names overlap at a normal zoom;
      // the level ruler names the levels).
      if (sel || o.hoverShape === i) textTag(ctx, s.label, x + 7, y - 5, warn ? "#ffb1ac" : colour);
      return;
    }
    if (s.shape_type === "circle" && s.points.length >= 2) {
      const c = vp.toScreen(s.points[0]);
      const r = vp.toScreen(s.points[1]);
      ctx.beginPath();
      ctx.arc(c[0], c[1], Math.hypot(r[0] - c[0], r[1] - c[1]), 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
    } else {
      const { points, closed } = outline(s);
      const scr = points.map((p) => vp.toScreen(p));
      if (scr.length === 0) return;
      ctx.beginPath();
      scr.forEach((p, k) => (k === 0 ? ctx.moveTo(p[0], p[1]) : ctx.lineTo(p[0], p[1])));
      if (closed) {
        ctx.closePath();
        ctx.fill();
      }
      if (o.hoverShape === i && !sel) haloStroke(ctx);
      if (o.locked?.(s)) ctx.setLineDash([2, 3]);
      ctx.stroke();
      ctx.setLineDash([]);
      if (s.shape_type === "line" && s.points.length === 2) {
        const mm = lengthMm(s.points[0], s.points[1], sr, sc);
        const a = scr[0];
        const b = scr[1];
        for (const e of [a, b]) {
          // Caliper end ticks, perpendicular to the line.
          const dx = b[0] - a[0];
          const dy = b[1] - a[1];
          const L = Math.hypot(dx, dy) || 1;
          ctx.beginPath();
          ctx.moveTo(e[0] - (dy / L) * 5, e[1] + (dx / L) * 5);
          ctx.lineTo(e[0] + (dy / L) * 5, e[1] - (dx / L) * 5);
          ctx.stroke();
        }
        textTag(ctx, `${s.label} ${formatMm(mm)}`, (a[0] + b[0]) / 2 + 6, (a[1] + b[1]) / 2 - 6, colour);
      } else if (sel || closed) {
        const top = scr.reduce((m, p) => (p[1] < m[1] ? p : m), scr[0]);
        if (sel) textTag(ctx, s.label, top[0] + 4, top[1] - 6, colour);
      }
    }
    if (sel) {
      s.points.forEach((p, k) => {
        const [x, y] = vp.toScreen(p);
        const hover = o.hoverVertex?.shape === i && o.hoverVertex.index === k;
        ctx.fillStyle = hover ? "#fff" : colour;
        ctx.fillRect(x - 4, y - 4, 8, 8);
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 1;
        ctx.strokeRect(x - 4, y - 4, 8, 8);
      });
    } else if (o.hoverVertex?.shape === i) {
      const p = s.points[o.hoverVertex.index];
      if (p) {
        const [x, y] = vp.toScreen(p);
        ctx.fillStyle = "#fff";
        ctx.fillRect(x - 4, y - 4, 8, 8);
      }
    }
  });
}

/** The shape being drawn (dashed), with the live caliper length for lines. */
export function drawDraft(
  ctx: CanvasRenderingContext2D,
  vp: Viewport,
  type: string,
  points: Point[],
  cursor: Point | null,
  colour: string,
): void {
  const pts = cursor ? [...points, cursor] : points;
  if (pts.length === 0) return;
  const scr = pts.map((p) => vp.toScreen(p));
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5;
  ctx.setLineDash([5, 4]);
  ctx.beginPath();
  if (type === "rectangle" && pts.length >= 2) {
    const a = scr[0];
    const b = scr[scr.length - 1];
    ctx.rect(a[0], a[1], b[0] - a[0], b[1] - a[1]);
  } else {
    scr.forEach((p, k) => (k === 0 ? ctx.moveTo(p[0], p[1]) : ctx.lineTo(p[0], p[1])));
  }
  ctx.stroke();
  ctx.setLineDash([]);
  for (const p of scr.slice(0, points.length)) {
    ctx.fillStyle = colour;
    ctx.fillRect(p[0] - 3, p[1] - 3, 6, 6);
  }
  if (type === "line" && pts.length >= 2) {
    const [sr, sc] = vp.series.pixel_spacing;
    const mm = lengthMm(pts[0], pts[pts.length - 1], sr, sc);
    const b = scr[scr.length - 1];
    textTag(ctx, formatMm(mm), b[0] + 10, b[1] + 14, "#fff");
  }
  ctx.restore();
}

export function drawChords(ctx: CanvasRenderingContext2D, vp: Viewport, chords: readonly Chord[]): void {
  ctx.save();
  ctx.lineWidth = 1.5;
  for (const c of chords) {
    const a = vp.toScreen(c.points[0]);
    const b = vp.toScreen(c.points[1]);
    ctx.strokeStyle = "#7ee0c3";
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
    ctx.fillStyle = "#7ee0c3";
    for (const e of [a, b]) ctx.fillRect(e[0] - 2, e[1] - 2, 4, 4);
    textTag(ctx, c.name, b[0] + 5, b[1] + 4, "#7ee0c3");
  }
  ctx.restore();
}

/** The next expected keypoint, shown at the cursor while placing keypoints. */
export function drawKeypointCursor(ctx: CanvasRenderingContext2D, at: Point | null, name: string | null): void {
  if (!at || !name) return;
  ctx.save();
  ctx.strokeStyle = "#ffd166";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.arc(at[0], at[1], 7, 0, Math.PI * 2);
  ctx.stroke();
  textTag(ctx, `next: ${name}`, at[0] + 10, at[1] + 18, "#ffd166");
  ctx.restore();
}

/** Vertebral level of a keypoint name ("C5_AS" → "C5"), or null. */
export function keypointLevel(label: string): string | null {
  const m = /^([CTLS]\d{1,2})_[A-Z]{2}$/.exec(label);
  return m ? m[1] : null;
}

/** A compact level ruler beside the spine: one tick and name per vertebral level at the mean
 * height of its placed corners, left of the leftmost corner. */
export function drawLevelRuler(ctx: CanvasRenderingContext2D, vp: Viewport, shapes: readonly Shape[]): void {
  const levels = new Map<string, Point[]>();
  for (const s of shapes) {
    const level = s.shape_type === "point" ? keypointLevel(s.label) : null;
    if (!level || !s.points[0]) continue;
    const list = levels.get(level) ?? [];
    list.push(vp.toScreen(s.points[0]));
    levels.set(level, list);
  }
  if (levels.size === 0) return;
  const all = [...levels.values()].flat();
  const x = Math.min(...all.map((p) => p[0])) - 16;
  ctx.save();
  ctx.strokeStyle = "rgba(255,209,102,.8)";
  ctx.lineWidth = 1;
  const ys = [...levels.entries()].map(([name, pts]): [string, number] => [
    name,
    pts.reduce((a, p) => a + p[1], 0) / pts.length,
  ]);
  ys.sort((a, b) => a[1] - b[1]);
  ctx.beginPath();
  ctx.moveTo(x, ys[0][1]);
  ctx.lineTo(x, ys[ys.length - 1][1]);
  ctx.stroke();
  for (const [name, y] of ys) {
    ctx.beginPath();
    ctx.moveTo(x - 4, y);
    ctx.lineTo(x + 4, y);
    ctx.stroke();
    ctx.font = "600 11px ui-monospace, Menlo, Consolas, monospace";
    const w = ctx.measureText(name).width;
    textTag(ctx, name, x - 8 - w, y + 4, "#ffd166");
  }
  ctx.restore();
}

/** Rulers (unsaved line measurements): dashed, with their length. */
export function drawRulers(ctx: CanvasRenderingContext2D, vp: Viewport, rulers: readonly [Point, Point][]): void {
  const [sr, sc] = vp.series.pixel_spacing;
  ctx.save();
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 1.5;
  for (const [p, q] of rulers) {
    const a = vp.toScreen(p);
    const b = vp.toScreen(q);
    ctx.setLineDash([6, 3]);
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
    ctx.setLineDash([]);
    for (const e of [a, b]) ctx.strokeRect(e[0] - 2, e[1] - 2, 4, 4);
    textTag(ctx, formatMm(lengthMm(p, q, sr, sc)), (a[0] + b[0]) / 2 + 6, (a[1] + b[1]) / 2 - 6, "#fff");
  }
  ctx.restore();
}
