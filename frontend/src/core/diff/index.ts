/**
 * The difference between two revisions of a read: shapes added, removed, moved (or
 * reshaped) and unchanged, per image, with each moved shape's largest displacement in mm.
 *
 * Shapes are matched per image by label and shape type; several shapes with the same label
 * and type (markers) are paired greedily, closest centroids first, so one moved marker does
 * not read as every marker moved.
 */

import type { Point, Shape, ShapesByImage } from "../../contract/types";

/** Pixel spacing of an image in mm: [between rows (y), between columns (x)]. */
export type Spacing = readonly [number, number];

export type ChangeKind = "added" | "removed" | "moved" | "unchanged";

export interface ShapeChange {
  kind: ChangeKind;
  image: string;
  label: string;
  shapeType: string;
  before: Shape | null;
  after: Shape | null;
  /** Largest distance a point of the shape travelled, in mm (0 for unchanged; null for
   * added/removed, or when the image's spacing is unknown). */
  displacementMm: number | null;
}

export interface RevisionDiff {
  changes: ShapeChange[];
  added: number;
  removed: number;
  moved: number;
  unchanged: number;
  /** The moved shape with the largest displacement, if any moved. */
  largest: ShapeChange | null;
}

function centroid(points: readonly Point[]): Point {
  if (points.length === 0) return [0, 0];
  let x = 0;
  let y = 0;
  for (const [px, py] of points) {
    x += px;
    y += py;
  }
  return [x / points.length, y / points.length];
}

function distanceMm(a: Point, b: Point, spacing: Spacing): number {
  return Math.hypot((a[0] - b[0]) * spacing[1], (a[1] - b[1]) * spacing[0]);
}

function nearestMm(p: Point, points: readonly Point[], spacing: Spacing): number {
  let best = Infinity;
  for (const q of points) best = Math.min(best, distanceMm(p, q, spacing));
  return best;
}

/**
 * The largest displacement between two versions of a shape, in mm: point by point when
 * both have as many points (a keypoint, a moved polygon), else the symmetric Hausdorff
 * distance between their vertices (a reshaped outline).
 */
export function displacementMm(before: readonly Point[], after: readonly Point[], spacing: Spacing): number {
  if (before.length === 0 || after.length === 0) return 0;
  if (before.length === after.length) {
    let most = 0;
    for (let i = 0; i < before.length; i++) most = Math.max(most, distanceMm(before[i], after[i], spacing));
    return most;
  }
  let most = 0;
  for (const p of before) most = Math.max(most, nearestMm(p, after, spacing));
  for (const q of after) most = Math.max(most, nearestMm(q, before, spacing));
  return most;
}

function samePoints(a: readonly Point[], b: readonly Point[]): boolean {
  return a.length === b.length && a.every((p, i) => p[0] === b[i][0] && p[1] === b[i][1]);
}

function sameShape(a: Shape, b: Shape): boolean {
  return samePoints(a.points, b.points) && (a.mask ?? null) === (b.mask ?? null);
}

function keyOf(shape: Shape): string {
  return `${shape.label}\u0000${shape.shape_type}`;
}

function groupByKey(shapes: readonly Shape[]): Map<string, Shape[]> {
  const groups = new Map<string, Shape[]>();
  for (const shape of shapes) {
    const list = groups.get(keyOf(shape)) ?? [];
    list.push(shape);
    groups.set(keyOf(shape), list);
  }
  return groups;
}

/** Pairs of (before, after) index, closest centroids first; each index used once. */
function pairUp(before: readonly Shape[], after: readonly Shape[]): [number, number][] {
  const candidates: [number, number, number][] = [];
  before.forEach((b, i) => {
    const cb = centroid(b.points);
    after.forEach((a, j) => {
      const ca = centroid(a.points);
      // An identical shape pairs first, whatever the distances of the others.
      const d = sameShape(b, a) ? -1 : Math.hypot(cb[0] - ca[0], cb[1] - ca[1]);
      candidates.push([d, i, j]);
    });
  });
  candidates.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
  const usedBefore = new Set<number>();
  const usedAfter = new Set<number>();
  const pairs: [number, number][] = [];
  for (const [, i, j] of candidates) {
    if (usedBefore.has(i) || usedAfter.has(j)) continue;
    usedBefore.add(i);
    usedAfter.add(j);
    pairs.push([i, j]);
  }
  return pairs;
}

function change(
  kind: ChangeKind,
  image: string,
  before: Shape | null,
  after: Shape | null,
  displacement: number | null,
): ShapeChange {
  const shape = (after ?? before) as Shape;
  return {
    kind,
    image,
    label: shape.label,
    shapeType: shape.shape_type,
    before,
    after,
    displacementMm: displacement,
  };
}

function diffGroup(image: string, before: Shape[], after: Shape[], spacing: Spacing | null): ShapeChange[] {
  const pairs = pairUp(before, after);
  const changes: ShapeChange[] = [];
  for (const [i, j] of pairs) {
    const [b, a] = [before[i], after[j]];
    if (sameShape(b, a)) {
      changes.push(change("unchanged", image, b, a, 0));
    } else {
      const moved = spacing === null ? null : displacementMm(b.points, a.points, spacing);
      changes.push(change("moved", image, b, a, moved));
    }
  }
  const pairedBefore = new Set(pairs.map(([i]) => i));
  const pairedAfter = new Set(pairs.map(([, j]) => j));
  before.forEach((b, i) => {
    if (!pairedBefore.has(i)) changes.push(change("removed", image, b, null, null));
  });
  after.forEach((a, j) => {
    if (!pairedAfter.has(j)) changes.push(change("added", image, null, a, null));
  });
  return changes;
}

/**
 * Compare two revisions' shapes. `spacingOf(image id)` gives the image's pixel spacing in
 * mm, or null when unknown (moves are then reported without a distance).
 */
export function diffRevisions(
  before: ShapesByImage,
  after: ShapesByImage,
  spacingOf: (image: string) => Spacing | null,
): RevisionDiff {
  const images = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(
    (a, b) => Number(a) - Number(b) || a.localeCompare(b),
  );
  const changes: ShapeChange[] = [];
  for (const image of images) {
    const groupsBefore = groupByKey(before[image] ?? []);
    const groupsAfter = groupByKey(after[image] ?? []);
    const keys = [...new Set([...groupsBefore.keys(), ...groupsAfter.keys()])].sort();
    const spacing = spacingOf(image);
    for (const key of keys) {
      changes.push(...diffGroup(image, groupsBefore.get(key) ?? [], groupsAfter.get(key) ?? [], spacing));
    }
  }
  const count = (kind: ChangeKind): number => changes.filter((c) => c.kind === kind).length;
  let largest: ShapeChange | null = null;
  for (const c of changes) {
    if (c.kind !== "moved" || c.displacementMm === null) continue;
    if (largest === null || c.displacementMm > (largest.displacementMm ?? -1)) largest = c;
  }
  return {
    changes,
    added: count("added"),
    removed: count("removed"),
    moved: count("moved"),
    unchanged: count("unchanged"),
    largest,
  };
}
