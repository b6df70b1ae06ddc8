import { describe, expect, it } from "vitest";
import { tissueBox } from "./tissue";

/** A columns × rows slice of faint noise with a bright block (x0..x1, y0..y1, exclusive). */
function slice(columns: number, rows: number, block: [number, number, number, number]): Float32Array {
  const px = new Float32Array(columns * rows);
  let seed = 7;
  for (let i = 0; i < px.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    px[i] = (seed / 2147483648) * 40; // background noise 0..40
  }
  const [x0, y0, x1, y1] = block;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) px[y * columns + x] = 800 + ((x + y) % 50);
  return px;
}

describe("tissue box", () => {
  it("frames the bright tissue and leaves the noisy air out", () => {
    expect(tissueBox(slice(200, 300, [60, 40, 140, 260]), 200, 300)).toEqual([60, 40, 140, 260]);
  });
  it("ignores isolated bright specks", () => {
    const px = slice(200, 300, [60, 40, 140, 260]);
    px[5 * 200 + 5] = 5000;
    px[290 * 200 + 195] = 5000;
    expect(tissueBox(px, 200, 300)).toEqual([60, 40, 140, 260]);
  });
  it("has no box for a flat slice or tissue edge to edge", () => {
    expect(tissueBox(new Float32Array(100 * 100), 100, 100)).toBeNull();
    expect(tissueBox(slice(100, 100, [0, 0, 100, 100]), 100, 100)).toBeNull();
  });
  it("has no box when the pixels are missing", () => {
    expect(tissueBox(new Float32Array(10), 100, 100)).toBeNull();
  });
});
