/**
 * Slice pixels by image id: parallel prefetch with a small concurrency limit, nearest slices first.
 * The slices on screen (priority ≤ 1) are fetched on their own before any neighbour, so the first
 * image does not share the connection and the server with five prefetches (the case-open time).
 */

import { getPixels } from "../../api/client";
import type { SeriesInfo } from "../../contract/types";
import type { PixelArray } from "../../core/windowLevel";
import { pixelView } from "../../core/windowLevel";

interface Job {
  imageId: number;
  series: SeriesInfo;
  priority: number;
}

/** Priority of a slice shown on screen (0: asked for now, 1: the slice a series opens on). */
const URGENT = 1;

export class PixelCache {
  private readonly data = new Map<number, PixelArray>();
  private readonly waiting = new Map<number, ((p: PixelArray) => void)[]>();
  private readonly failed = new Map<number, string>();
  private queue: Job[] = [];
  /** Image ids being fetched, with their priority. */
  private readonly active = new Map<number, number>();
  private pumpQueued = false;
  private listeners: ((imageId: number) => void)[] = [];

  constructor(private readonly concurrency = 6) {}

  peek(imageId: number): PixelArray | undefined {
    return this.data.get(imageId);
  }

  error(imageId: number): string | undefined {
    return this.failed.get(imageId);
  }

  onLoad(fn: (imageId: number) => void): void {
    this.listeners.push(fn);
  }

  loadedCount(series: SeriesInfo): number {
    return series.images.reduce((n, im) => n + (this.data.has(im.id) ? 1 : 0), 0);
  }

  /** Queue every slice of a series, ordered by distance from slice `around`. */
  prefetchSeries(series: SeriesInfo, around: number): void {
    series.images.forEach((im, i) => this.enqueue(im.id, series, Math.abs(i - around) + 1));
    this.pump();
  }

  /** Ask for one slice now (jumps the queue); resolves with its pixels. */
  get(imageId: number, series: SeriesInfo): Promise<PixelArray> {
    const have = this.data.get(imageId);
    if (have) return Promise.resolve(have);
    const p = new Promise<PixelArray>((resolve) => {
      const list = this.waiting.get(imageId) ?? [];
      list.push(resolve);
      this.waiting.set(imageId, list);
    });
    this.enqueue(imageId, series, 0);
    this.pump();
    return p;
  }

  /** Move a series' slices near `around` to the front (called while scrolling). */
  reprioritise(series: SeriesInfo, around: number): void {
    const index = new Map(series.images.map((im, i) => [im.id, i]));
    for (const j of this.queue) {
      const i = index.get(j.imageId);
      if (i !== undefined) j.priority = Math.abs(i - around) + 1;
    }
  }

  private enqueue(imageId: number, series: SeriesInfo, priority: number): void {
    if (this.data.has(imageId) || this.active.has(imageId)) return;
    const existing = this.queue.find((j) => j.imageId === imageId);
    if (existing) existing.priority = Math.min(existing.priority, priority);
    else this.queue.push({ imageId, series, priority });
  }

  /** Start fetches after the current task, so every viewport of a page queues its slice first. */
  private pump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pumpNow();
    });
  }

  private pumpNow(): void {
    this.queue.sort((a, b) => a.priority - b.priority);
    while (this.active.size < this.concurrency && this.queue.length > 0) {
      const next = this.queue[0];
      if (next.priority > URGENT && [...this.active.values()].some((p) => p <= URGENT)) break;
      this.queue.shift();
      this.active.set(next.imageId, next.priority);
      void this.fetchOne(next);
    }
  }

  private async fetchOne(job: Job, attempt = 0): Promise<void> {
    try {
      const buf = await getPixels(job.imageId);
      const px = pixelView(buf, job.series.dtype, job.series.rows * job.series.columns);
      this.data.set(job.imageId, px);
      this.failed.delete(job.imageId);
      for (const r of this.waiting.get(job.imageId) ?? []) r(px);
      this.waiting.delete(job.imageId);
      for (const l of this.listeners) l(job.imageId);
    } catch (e) {
      if (attempt < 3) {
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        return this.fetchOne(job, attempt + 1);
      }
      this.failed.set(job.imageId, e instanceof Error ? e.message : String(e));
      for (const l of this.listeners) l(job.imageId);
    } finally {
      if (this.data.has(job.imageId) || this.failed.has(job.imageId)) {
        this.active.delete(job.imageId);
        this.pump();
      }
    }
  }
}
