/** Withheld pre-labels ("suggestions"): parsing the API's reply, which ones are still open on an image, which one a key accepts, and the shape it becomes. */

import type { Point, Shape, ShapeType } from "../../contract/types";

export interface Suggestion {
  image: number;
  label: string;
  shape_type: ShapeType;
  points: Point[];
  /** Calibrated probability of being right. */
  confidence: number;
  raw_confidence: number;
  threshold: number;
  reason: string;
}

function isPoint(x: unknown): x is Point {
  return Array.isArray(x) && x.length === 2 && x.every((v) => typeof v === "number" && Number.isFinite(v));
}

function parseOne(x: unknown): Suggestion | null {
  if (!x || typeof x !== "object") return null;
  const o = x as Record<string, unknown>;
  const points = Array.isArray(o.points) ? o.points.filter(isPoint) : [];
  if (typeof o.image !== "number" || typeof o.label !== "string" || !points.length) return null;
  if (o.shape_type !== "point" && o.shape_type !== "polygon") return null;
  const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return {
    image: o.image,
    label: o.label,
    shape_type: o.shape_type,
    points,
    confidence: num(o.confidence),
    raw_confidence: num(o.raw_confidence),
    threshold: num(o.threshold),
    reason: typeof o.reason === "string" ? o.reason : "",
  };
}

/** The `items` of `GET /api/reads/{id}/suggestions`; malformed entries are dropped. */
export function parseSuggestions(reply: unknown): Suggestion[] {
  const items = reply && typeof reply === "object" ? (reply as Record<string, unknown>).items : null;
  if (!Array.isArray(items)) return [];
  return items.map(parseOne).filter((s): s is Suggestion => s !== null);
}

/** The suggestions of an image that the read does not hold yet: a shape of the same label there (accepted, or drawn by hand) takes its place. */
export function openOn(items: readonly Suggestion[], imageId: number | null, shapes: readonly Shape[]): Suggestion[] {
  if (imageId === null) return [];
  const have = new Set(shapes.map((s) => s.label));
  return items.filter((s) => s.image === imageId && !have.has(s.label));
}

function distance(s: Suggestion, p: Point): number {
  return Math.min(...s.points.map(([x, y]) => Math.hypot(x - p[0], y - p[1])));
}

/** The suggestion a key accepts: the one nearest the pointer (its nearest vertex), else the first open one. */
export function pickSuggestion(open: readonly Suggestion[], pointer: Point | null): Suggestion | null {
  if (!open.length) return null;
  if (!pointer) return open[0] ?? null;
  let best = open[0] ?? null;
  for (const s of open) if (best && distance(s, pointer) < distance(best, pointer)) best = s;
  return best;
}

/** The labelme shape an accepted suggestion becomes in the user's read. */
export function suggestionShape(s: Suggestion): Shape {
  return {
    label: s.label,
    points: s.points.map(([x, y]): Point => [x, y]),
    group_id: null,
    description: "",
    shape_type: s.shape_type,
    flags: {},
    mask: null,
  };
}

/** "C5_AI withheld: confidence 0.42 below 0.60" */
export function withheldText(s: Suggestion): string {
  return `${s.label} withheld: ${s.reason || `confidence ${s.confidence.toFixed(2)} below ${s.threshold.toFixed(2)}`}`;
}
