/**
 * Shape validation, mirroring the server's rules for immediate feedback. The shared contract fixtures
 * (src/contract/fixtures/*_shapes.json) are checked by this module's spec and by the backend tests.
 */

import type { Orientation, Shape, ShapeType, Template } from "../../contract/types";
import { distinctPointCount, polygonArea } from "../geometry/polygon";

export const SHAPE_TYPES: readonly ShapeType[] = ["polygon", "rectangle", "point", "line", "linestrip", "circle", "mask"];

/** Line shapes with these labels are manual calipers, allowed whatever the template says. */
export const CALIPER_LABELS: readonly string[] = ["d_i", "d_a", "d_b", "D_i", "D_a", "D_b", "T", "S"];

export type ErrorCode =
  | "unknown_label"
  | "unknown_shape_type"
  | "shape_type_not_allowed"
  | "view_not_allowed"
  | "point_count"
  | "non_finite"
  | "outside_image"
  | "polygon_degenerate"
  | "duplicate_keypoint"
  | "mask_missing";

export interface ValidationIssue {
  index: number;
  label: string;
  code: ErrorCode;
  message: string;
}

export interface ImageContext {
  rows: number;
  columns: number;
  view?: Orientation | undefined;
}

/** What the template allows for a label name, or null when the label is unknown. */
export interface LabelRule {
  shapeTypes: readonly ShapeType[];
  views: readonly Orientation[] | null;
  keypoint: boolean;
}

export function labelRule(template: Template, label: string, shapeType?: ShapeType): LabelRule | null {
  const def = template.labels.find((l) => l.name === label);
  if (def) return { shapeTypes: def.shape_types, views: def.views ?? null, keypoint: false };
  for (const set of template.keypoint_sets ?? []) {
    if (set.points.includes(label)) return { shapeTypes: ["point"], views: set.view ? [set.view] : null, keypoint: true };
  }
  if (CALIPER_LABELS.includes(label) && (shapeType === undefined || shapeType === "line")) {
    return { shapeTypes: ["line"], views: null, keypoint: false };
  }
  return null;
}

const EXACT_POINTS: Partial<Record<ShapeType, number>> = { point: 1, rectangle: 2, line: 2, circle: 2, mask: 2 };

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Problems of one shape on its own (without the per-image rules). */
export function validateShape(shape: Shape, index: number, template: Template, image: ImageContext): ValidationIssue[] {
  const label = typeof shape.label === "string" ? shape.label : "";
  const issue = (code: ErrorCode, message: string): ValidationIssue => ({ index, label, code, message });
  const type = shape.shape_type;
  if (!SHAPE_TYPES.includes(type)) return [issue("unknown_shape_type", `unknown shape type "${String(type)}"`)];
  const rule = labelRule(template, label, type);
  if (!rule) return [issue("unknown_label", `label "${label}" is not in the project template`)];
  const out: ValidationIssue[] = [];
  if (!rule.shapeTypes.includes(type)) {
    out.push(issue("shape_type_not_allowed", `label "${label}" allows ${rule.shapeTypes.join(", ")}, not ${type}`));
  }
  if (image.view && rule.views && !rule.views.includes(image.view)) {
    out.push(issue("view_not_allowed", `label "${label}" is not used on ${image.view} images`));
  }
  const pts: unknown = shape.points;
  if (!Array.isArray(pts)) return [...out, issue("point_count", "points must be a list of [x, y] pairs")];
  const exact = EXACT_POINTS[type];
  if (exact !== undefined && pts.length !== exact) {
    out.push(issue("point_count", `${type} needs exactly ${exact} point${exact > 1 ? "s" : ""}, got ${pts.length}`));
  }
  if (type === "linestrip" && pts.length < 2) out.push(issue("point_count", `linestrip needs at least 2 points, got ${pts.length}`));
  let allFinite = true;
  let outside = false;
  for (const p of pts as unknown[]) {
    if (!Array.isArray(p) || p.length !== 2 || !isFiniteNumber(p[0]) || !isFiniteNumber(p[1])) {
      allFinite = false;
      continue;
    }
    if (p[0] < 0 || p[1] < 0 || p[0] > image.columns || p[1] > image.rows) outside = true;
  }
  if (!allFinite) out.push(issue("non_finite", "every point must be two finite numbers"));
  if (outside) out.push(issue("outside_image", `a point lies outside the image (${image.columns} × ${image.rows})`));
  if (type === "polygon" && allFinite) {
    const p = pts as [number, number][];
    if (p.length < 3 || distinctPointCount(p) < 3 || polygonArea(p) === 0) {
      out.push(issue("polygon_degenerate", "a polygon needs at least 3 distinct points and a non-zero area"));
    }
  }
  if (type === "mask" && (typeof shape.mask !== "string" || shape.mask.length === 0)) {
    out.push(issue("mask_missing", "a mask shape needs its PNG data"));
  }
  return out;
}

/** All problems of the shapes of one image, including keypoints placed more than once. */
export function validateImageShapes(shapes: readonly Shape[], template: Template, image: ImageContext): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const seenKeypoints = new Set<string>();
  shapes.forEach((shape, i) => {
    out.push(...validateShape(shape, i, template, image));
    const rule = labelRule(template, shape.label, shape.shape_type);
    if (rule?.keypoint && shape.shape_type === "point") {
      if (seenKeypoints.has(shape.label)) {
        out.push({ index: i, label: shape.label, code: "duplicate_keypoint", message: `keypoint ${shape.label} is placed more than once` });
      }
      seenKeypoints.add(shape.label);
    }
  });
  return out;
}
