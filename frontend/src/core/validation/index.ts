/**
 * Shape validation, mirroring (annotation/shapes.py) the server's rules for immediate feedback. The shared contract fixtures
 * (src/contract/fixtures/*_shapes.json) are checked by this module's spec and by the backend tests.
 */

import type { Orientation, Shape, ShapeType, Template } from "../../contract/types";
import { distinctPointCount, polygonArea } from "../geometry/polygon";

export const SHAPE_TYPES: readonly ShapeType[] = [
  "polygon",
  "rectangle",
  "point",
  "line",
  "linestrip",
  "circle",
  "mask",
];

export type ErrorCode =
  | "label_missing"
  | "unknown_label"
  | "unknown_shape_type"
  | "shape_type_not_allowed"
  | "non_finite"
  | "point_count"
  | "outside_image"
  | "polygon_degenerate"
  | "points_coincide"
  | "duplicate_keypoint"
  | "mask_missing"
  | "string_too_long";

export interface ValidationIssue {
  index: number;
  label: string;
  code: ErrorCode;
  message: string;
}

export interface ImageContext {
  rows: number;
  columns: number;
}

/** Shape types the template allows for a label, and whether it is a keypoint; null when unknown. */
export interface LabelRule {
  shapeTypes: readonly ShapeType[];
  views: readonly Orientation[] | null;
  keypoint: boolean;
}

export function labelRule(template: Template, label: string): LabelRule | null {
  for (const set of template.keypoint_sets ?? []) {
    if (set.points.includes(label))
      return { shapeTypes: ["point"], views: set.view ? [set.view] : null, keypoint: true };
  }
  const def = template.labels.find((l) => l.name === label);
  if (def) return { shapeTypes: def.shape_types, views: def.views ?? null, keypoint: false };
  return null;
}

const EXACT_POINTS: Partial<Record<ShapeType, number>> = { point: 1, rectangle: 2, line: 2, circle: 2, mask: 2 };
const MIN_POINTS: Partial<Record<ShapeType, number>> = { polygon: 3, linestrip: 2 };

/** Text in a shape (label, description, unknown keys) and a mask's base64 PNG, as the server limits them. */
const MAX_STRING_CHARS = 10_000;
const MAX_MASK_CHARS = 4 * 1024 ** 2;

/** The first text in a shape (any key, at any depth; not the points) longer than its limit, as a message. */
function longText(value: unknown, key = ""): string | null {
  if (typeof value === "string") {
    const limit = key === "mask" ? MAX_MASK_CHARS : MAX_STRING_CHARS;
    // The server counts code points; UTF-16 length is never below that, so it is the cheap first test.
    const tooLong = value.length > limit && [...value].length > limit;
    return tooLong ? `${key || "a value"}: text longer than ${limit} characters` : null;
  }
  if (Array.isArray(value)) {
    if (key === "points") return null;
    for (const item of value) {
      const problem = longText(item, key);
      if (problem) return problem;
    }
  } else if (typeof value === "object" && value !== null) {
    for (const [k, item] of Object.entries(value)) {
      const problem = longText(k, "a key") ?? longText(item, key || k);
      if (problem) return problem;
    }
  }
  return null;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * The first problem of one shape, checked in the server's order (text length, label, type, points, count, bounds,
 * degenerate geometry, mask data); null when the shape is valid on its own.
 */
export function validateShape(
  shape: Shape,
  index: number,
  template: Template,
  image: ImageContext,
): ValidationIssue | null {
  const label = typeof shape.label === "string" ? shape.label : "";
  const issue = (code: ErrorCode, message: string): ValidationIssue => ({ index, label, code, message });
  const text = longText(shape);
  if (text) return issue("string_too_long", text);
  if (!label) return issue("label_missing", "label is missing");
  const type = shape.shape_type ?? "polygon";
  const rule = labelRule(template, label);
  if (!rule) return issue("unknown_label", `unknown label "${label}" (not in the project template)`);
  if (!SHAPE_TYPES.includes(type)) return issue("unknown_shape_type", `unknown shape type "${String(type)}"`);
  if (!rule.shapeTypes.includes(type)) {
    return issue(
      "shape_type_not_allowed",
      `shape type ${type} is not allowed for "${label}" (allowed: ${rule.shapeTypes.join(", ")})`,
    );
  }
  const raw: unknown = shape.points;
  if (!Array.isArray(raw)) return issue("non_finite", "points must be a list of [x, y] pairs");
  for (const p of raw as unknown[]) {
    if (!Array.isArray(p) || p.length !== 2 || !isFiniteNumber(p[0]) || !isFiniteNumber(p[1])) {
      return issue("non_finite", "each point must be a pair of finite numbers [x, y]");
    }
  }
  const pts = raw as [number, number][];
  const exact = EXACT_POINTS[type];
  if (exact !== undefined && pts.length !== exact) {
    return issue("point_count", `a ${type} needs exactly ${exact} point${exact > 1 ? "s" : ""}, got ${pts.length}`);
  }
  const min = MIN_POINTS[type];
  if (min !== undefined && pts.length < min)
    return issue("point_count", `a ${type} needs at least ${min} points, got ${pts.length}`);
  for (const [x, y] of pts) {
    if (x < 0 || y < 0 || x > image.columns || y > image.rows) {
      return issue("outside_image", `point (${x}, ${y}) lies outside the image (${image.columns}×${image.rows})`);
    }
  }
  if (type === "polygon") {
    if (distinctPointCount(pts) < 3) return issue("polygon_degenerate", "a polygon needs at least 3 distinct points");
    if (polygonArea(pts) <= 1e-9) return issue("polygon_degenerate", "a polygon must have a non-zero area");
  }
  if (
    (type === "rectangle" || type === "line" || type === "circle") &&
    pts[0][0] === pts[1][0] &&
    pts[0][1] === pts[1][1]
  ) {
    return issue("points_coincide", `a ${type}'s two points must differ`);
  }
  if (type === "mask" && typeof shape.mask !== "string")
    return issue("mask_missing", "a mask shape needs its mask (base64 PNG)");
  return null;
}

/** All problems of the shapes of one image (at most one per shape), including keypoints placed twice. */
export function validateImageShapes(
  shapes: readonly Shape[],
  template: Template,
  image: ImageContext,
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const used = new Set<string>();
  shapes.forEach((shape, i) => {
    let found = validateShape(shape, i, template, image);
    if (!found && labelRule(template, shape.label)?.keypoint) {
      if (used.has(shape.label)) {
        found = {
          index: i,
          label: shape.label,
          code: "duplicate_keypoint",
          message: `keypoint "${shape.label}" is used more than once on this image`,
        };
      }
      used.add(shape.label);
    }
    if (found) out.push(found);
  });
  return out;
}

/** Labels offered on a view: those whose template entry names the view (or names none). */
export function labelsForView(template: Template, view: Orientation | undefined): string[] {
  return template.labels.filter((l) => !view || !l.views || l.views.includes(view)).map((l) => l.name);
}
