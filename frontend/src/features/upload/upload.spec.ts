import { describe, expect, it } from "vitest";
import { batches } from "./index";

const entry = (size: number, name = "f") => ({ file: { size } as File, path: name });

describe("upload batches", () => {
  it("splits by file count and by total size, keeping order", () => {
    const many = Array.from({ length: 900 }, (_, i) => entry(10, `f${i}`));
    const b = batches(many);
    expect(b.map((x) => x.length)).toEqual([400, 400, 100]);
    expect(b[1]?.[0]?.path).toBe("f400");
    const big = [entry(200 * 1024 * 1024), entry(100 * 1024 * 1024), entry(1)];
    expect(batches(big).map((x) => x.length)).toEqual([1, 2]);
    expect(batches([])).toEqual([]);
  });
});
