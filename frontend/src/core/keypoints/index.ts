/** Named keypoint sets (vertebral corners): guided placement order and plausibility warnings. */

import type { KeypointSetDef, Point, Shape } from "../../contract/types";

/** Placed keypoints of a set on one image: name → point. */
export function placedKeypoints(set: KeypointSetDef, shapes: readonly Shape[]): Map<string, Point> {
  const out = new Map<string, Point>();
  for (const s of shapes) {
    if (s.shape_type === "point" && set.points.includes(s.label) && s.points[0] && !out.has(s.label))
      out.set(s.label, s.points[0]);
  }
  return out;
}

/** The next keypoint to place: the first name of the set's order that is not yet placed; null when complete. */
export function nextKeypoint(set: KeypointSetDef, shapes: readonly Shape[]): string | null {
  const placed = placedKeypoints(set, shapes);
  return set.points.find((n) => !placed.has(n)) ?? null;
}

export interface KeypointWarning {
  names: string[];
  message: string;
}

interface Corners {
  AS?: Point | undefined;
  AI?: Point | undefined;
  PS?: Point | undefined;
  PI?: Point | undefined;
}

const CORNER = /^(.+)_(AS|AI|PS|PI)$/;

/** Group a set's names as vertebra → corners, keeping the set's vertebra order. */
function vertebrae(set: KeypointSetDef, placed: Map<string, Point>): [string, Corners][] {
  const order: string[] = [];
  const out = new Map<string, Corners>();
  for (const name of set.points) {
    const m = CORNER.exec(name);
    if (!m) continue;
    const v = m[1];
    if (!out.has(v)) {
      out.set(v, {});
      order.push(v);
    }
    (out.get(v) as Corners)[m[2] as keyof Corners] = placed.get(name);
  }
  return order.map((v) => [v, out.get(v) as Corners]);
}

const mean = (ps: (Point | undefined)[]): Point | null => {
  const q = ps.filter((p): p is Point => p !== undefined);
  if (q.length === 0) return null;
  return [q.reduce((s, p) => s + p[0], 0) / q.length, q.reduce((s, p) => s + p[1], 0) / q.length];
};

/**
 * Plausibility of vertebral corners on a sagittal image (y grows downwards): superior corners above
 * inferior ones, posterior corners behind anterior ones, vertebrae in cranio-caudal order.
 * "Behind" is decided by the majority of placed vertebrae (sagittal images are shown anterior left,
 * which breaks the tie), so one flipped vertebra is flagged even on a mirrored series.
 */
export function keypointWarnings(set: KeypointSetDef, shapes: readonly Shape[]): KeypointWarning[] {
  const placed = placedKeypoints(set, shapes);
  const vs = vertebrae(set, placed);
  const out: KeypointWarning[] = [];
  for (const [v, c] of vs) {
    for (const side of ["A", "P"] as const) {
      const sup = c[`${side}S`];
      const inf = c[`${side}I`];
      if (sup && inf && !(sup[1] < inf[1])) {
        out.push({
          names: [`${v}_${side}S`, `${v}_${side}I`],
          message: `${v}_${side}S should lie above ${v}_${side}I`,
        });
      }
    }
  }
  let votes = 0;
  const sense = vs.map(([, c]) => {
    const a = mean([c.AS, c.AI]);
    const p = mean([c.PS, c.PI]);
    if (!a || !p || a[0] === p[0]) return 0;
    return p[0] > a[0] ? 1 : -1;
  });
  for (const s of sense) votes += s;
  const posteriorSign = votes < 0 ? -1 : 1; // tie: anterior on the left, posterior to the right
  vs.forEach(([v, c], i) => {
    if (sense[i] !== 0 && sense[i] !== posteriorSign) {
      const names = (["AS", "AI", "PS", "PI"] as const).filter((k) => c[k]).map((k) => `${v}_${k}`);
      out.push({ names, message: `${v}: posterior corners should lie behind the anterior ones` });
    }
  });
  for (let i = 0; i + 1 < vs.length; i++) {
    const [v, c] = vs[i];
    const [w, d] = vs[i + 1];
    const upper = mean([c.AI, c.PI]) ?? mean([c.AS, c.PS]);
    const lower = mean([d.AS, d.PS]) ?? mean([d.AI, d.PI]);
    if (upper && lower && !(upper[1] < lower[1])) {
      out.push({
        names: [v, w].flatMap((x) => ["AS", "AI", "PS", "PI"].map((k) => `${x}_${k}`)).filter((n) => placed.has(n)),
        message: `${w} should lie below ${v}`,
      });
    }
  }
  return out;
}

/** The index of the slice that carries the most points (the vertebral corners the
 * measurements rest on), the one nearest `current` on a tie; null when none has a point.
 * Viewers open a series there rather than on its middle slice. */
export function keypointSlice(
  images: readonly { id: number }[],
  current: number,
  shapesOf: (imageId: number) => readonly Shape[],
): number | null {
  let best: number | null = null;
  let most = 0;
  images.forEach((im, i) => {
    const n = shapesOf(im.id).filter((s) => s.shape_type === "point").length;
    const nearer = best !== null && Math.abs(i - current) < Math.abs(best - current);
    if (n > most || (n > 0 && n === most && nearer)) [best, most] = [i, n];
  });
  return best;
}
