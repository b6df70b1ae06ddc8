// `npx vitest bench --run src/core/geometry/hit.bench.ts`: hit-testing 60 shapes of 60 points
// per pointer move (issue 10: ≤ 0.5 ms). tests/benchmarks/bench_browser.py reports it too.
import { bench } from "vitest";
import type { Point, Shape } from "../../contract/types";
import { hitCandidates } from "./index";

const shapes: Shape[] = Array.from({ length: 60 }, (_, i) => ({
  label: `s${i}`,
  shape_type: "polygon",
  group_id: null,
  description: "",
  flags: {},
  points: Array.from({ length: 60 }, (_, k): Point => {
    const a = (k / 60) * 2 * Math.PI;
    return [256 + (40 + i) * Math.cos(a), 256 + (30 + i) * Math.sin(a)];
  }),
}));
const toScreen = (p: Point): Point => [10 + p[0] * 1.7, 20 + p[1] * 1.7];
const affine = { offset: [10, 20] as Point, scale: [1.7, 1.7] as Point };
let y = 0;

bench("hit-test 60 shapes × 60 points", () => {
  // Pointer moves over the shapes (inside their boxes: no shape is skipped by its box alone).
  y = (y + 7) % 300;
  hitCandidates(shapes, [450 + (y % 50), 330 + y], toScreen, { tolerance: 6, selected: new Set([3]), affine });
});
