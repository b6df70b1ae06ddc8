/** labelme JSON per image: import into shapes (unknown keys kept) and export back, round-trip exact. */

import type { Point, Shape, ShapeType } from "../../contract/types";

/** A labelme file as read: known fields typed, every other key kept in place. */
export interface LabelmeFile {
  version?: string;
  flags?: Record<string, boolean>;
  shapes: Shape[];
  imagePath?: string;
  imageData?: string | null;
  imageHeight?: number;
  imageWidth?: number;
  [key: string]: unknown;
}

export const LABELME_VERSION = "5.5.0";

function fail(msg: string): never {
  throw new Error(`labelme JSON: ${msg}`);
}

/** Parse one labelme shape, keeping its unknown keys and key order; missing known keys are not invented. */
export function parseShape(raw: unknown, index: number): Shape {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(`shape ${index} is not an object`);
  const o = raw as Record<string, unknown>;
  if (typeof o.label !== "string") fail(`shape ${index} has no label`);
  if (!Array.isArray(o.points)) fail(`shape ${index} has no points list`);
  const points = (o.points as unknown[]).map((p, k) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "number" || typeof p[1] !== "number") {
      fail(`shape ${index} point ${k} is not [x, y]`);
    }
    return [p[0], p[1]] as Point;
  });
  return { ...o, points } as Shape;
}

/** Read a labelme file's text (or parsed object). */
export function importLabelme(input: unknown): LabelmeFile {
  const data: unknown = typeof input === "string" ? JSON.parse(input) : input;
  if (typeof data !== "object" || data === null || Array.isArray(data)) fail("top level is not an object");
  const o = data as Record<string, unknown>;
  if (!Array.isArray(o.shapes)) fail('no "shapes" list');
  const shapes = (o.shapes as unknown[]).map(parseShape);
  return { ...o, shapes };
}

/** Fill labelme 5's default keys of a shape we created (group_id, description, flags, mask). */
export function normaliseShape(s: Partial<Shape> & { label: string; points: Point[]; shape_type: ShapeType }): Shape {
  return {
    ...s,
    label: s.label,
    points: s.points,
    group_id: s.group_id ?? null,
    description: s.description ?? "",
    shape_type: s.shape_type,
    flags: s.flags ?? {},
    mask: s.mask ?? null,
  };
}

/**
 * Build a labelme file for an image: `base` is the file it came from (its other keys kept),
 * or null for a fresh file, which gets labelme 5's top-level keys.
 */
export function exportLabelme(args: {
  shapes: readonly Shape[];
  base: LabelmeFile | null;
  imagePath: string;
  imageHeight: number;
  imageWidth: number;
  flags?: Record<string, boolean>;
}): LabelmeFile {
  const shapes = args.shapes.map((s) => ({ ...s, points: s.points.map((p) => [p[0], p[1]] as Point) }));
  if (args.base) {
    const out: LabelmeFile = { ...args.base, shapes };
    if (args.flags !== undefined) out.flags = args.flags;
    return out;
  }
  return {
    version: LABELME_VERSION,
    flags: args.flags ?? {},
    shapes,
    imagePath: args.imagePath,
    imageData: null,
    imageHeight: args.imageHeight,
    imageWidth: args.imageWidth,
  };
}

/** Serialise as labelme writes it (indent 2). */
export function labelmeText(file: LabelmeFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
