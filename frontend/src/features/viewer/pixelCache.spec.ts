import { beforeEach, describe, expect, it, vi } from "vitest";
import type { SeriesInfo } from "../../contract/types";

const pending = new Map<number, (b: ArrayBuffer) => void>();
const asked: number[] = [];
vi.mock("../../api/client", () => ({
  getPixels: (id: number) =>
    new Promise<ArrayBuffer>((resolve) => {
      asked.push(id);
      pending.set(id, resolve);
    }),
}));

const { PixelCache } = await import("./pixelCache");

function series(first: number, n: number): SeriesInfo {
  return {
    dtype: "uint16",
    rows: 2,
    columns: 2,
    images: Array.from({ length: n }, (_, i) => ({ id: first + i, index: i, position: i })),
  } as unknown as SeriesInfo;
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const arrive = async (id: number) => {
  pending.get(id)?.(new ArrayBuffer(8));
  pending.delete(id);
  await flush();
};

describe("pixel cache order", () => {
  beforeEach(() => {
    pending.clear();
    asked.length = 0;
  });

  it("fetches the slice each viewport opens on alone, then the neighbours nearest first", async () => {
    const cache = new PixelCache(6);
    const sag = series(1, 9);
    const ax = series(20, 7);
    cache.prefetchSeries(sag, 4); // two viewports queue in the same task, as the layout does
    cache.prefetchSeries(ax, 3);
    await flush();
    expect(asked).toEqual([5, 23]);
    await arrive(5);
    expect(asked).toEqual([5, 23]); // the axial slice on screen is still on its way
    await arrive(23);
    expect(asked.length).toBe(8);
    expect(new Set(asked.slice(2, 6))).toEqual(new Set([4, 6, 22, 24]));
  });

  it("lets a slice asked for now (scrolling) go before the remaining prefetch", async () => {
    const cache = new PixelCache(2);
    const sag = series(1, 9);
    cache.prefetchSeries(sag, 0);
    await flush();
    expect(asked).toEqual([1]);
    const got = cache.get(9, sag);
    await arrive(1);
    expect(asked).toEqual([1, 9]);
    await arrive(9);
    expect((await got).length).toBe(4);
    expect(asked).toEqual([1, 9, 2, 3]);
  });
});
