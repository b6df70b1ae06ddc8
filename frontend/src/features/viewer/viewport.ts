/**
 * One viewport: a series on a canvas, slice scrolling, window/level, zoom/pan, overlay text.
 * The canvas states what it shows in data attributes: `data-image-id` and `data-slice-index` (0-based) of the
 * slice, `data-state` (loading, ready, error) and `data-view`, the image-to-canvas mapping
 * {"offset": [x, y], "scale": [kx, ky]}: image pixel (x, y) is at canvas CSS pixel offset + (x, y) × scale.
 */

import type { CaseInfo, Point, SeriesInfo } from "../../contract/types";
import type { ViewTransform } from "../../core/geometry";
import { fitBoxTransform, fitTransform, panBy, pixelScale, screenToImage, zoomAt } from "../../core/geometry";
import type { IntensityStats, PixelArray, Window, WindowLevel } from "../../core/windowLevel";
import { applyWindow, buildLut, dragWindow, intensityStats, PRESETS, presetWindow } from "../../core/windowLevel";
import { el } from "../ui";
import { ViewportCorners } from "./corners";
import { bindViewportInput } from "./input";
import type { PixelCache } from "./pixelCache";

/** What an annotation tool gets from the viewport for pointer input. */
export interface PointerInfo {
  screen: Point;
  image: Point;
  event: PointerEvent | MouseEvent;
}

/** A tool that takes left-button input; returning false lets the viewport treat the drag as window/level. */
export interface ViewportTool {
  down(vp: Viewport, p: PointerInfo): boolean;
  move(vp: Viewport, p: PointerInfo, dragging: boolean): void;
  up(vp: Viewport, p: PointerInfo): void;
  dblclick?(vp: Viewport, p: PointerInfo): void;
  cursor(vp: Viewport, p: PointerInfo | null): string;
}

export type OverlayDrawer = (ctx: CanvasRenderingContext2D, vp: Viewport) => void;

export class Viewport {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  series: SeriesInfo;
  index = 0;
  wl: WindowLevel = { center: 0, width: 1, invert: false };
  presetName = "Default";
  tool: ViewportTool | null = null;
  readonly drawers: OverlayDrawer[] = [];
  readonly sliceListeners: ((vp: Viewport) => void)[] = [];
  readonly seriesListeners: ((vp: Viewport) => void)[] = [];
  activateListener: ((vp: Viewport) => void) | null = null;
  /** The region a fit frames (image pixels x0, y0, x1, y1: the pre-label's extent), or null: the whole image. */
  regionOfInterest: ((vp: Viewport) => [number, number, number, number] | null) | null = null;
  /** The pointer over the canvas (null when it left): tools draw their cursor there. */
  pointer: PointerInfo | null = null;

  private stats: IntensityStats | null = null;
  private statsFrom = 0;
  private readonly image = document.createElement("canvas");
  private imageData: ImageData | null = null;
  private out32: Uint32Array | null = null;
  private lut: Uint32Array | undefined;
  private lutKey = "";
  private imageDirty = true;
  private viewTransform: ViewTransform | null = null;
  /** The automatic fit and the region it framed, while the view is still that fit. */
  private autoFit: { transform: ViewTransform; box: string } | null = null;
  private frame = 0;
  private readonly picker: HTMLSelectElement;
  private readonly corners: ViewportCorners;
  private wlInitialised = false;

  constructor(
    readonly slot: string,
    series: SeriesInfo,
    readonly seriesChoices: SeriesInfo[],
    private readonly caseInfo: CaseInfo,
    private readonly cache: PixelCache,
  ) {
    this.series = series;
    this.canvas = el("canvas", { class: "vp-canvas", "data-testid": `viewport-${slot}`, tabindex: "0" });
    this.picker = el("select", {
      class: "vp-picker",
      "data-testid": `series-picker-${slot}`,
      title: "Series shown in this viewport",
    });
    for (const s of seriesChoices) {
      this.picker.append(
        el(
          "option",
          { value: String(s.id) },
          `${s.orientation} · ${s.description || `series ${s.number ?? s.id}`} (${s.images.length})`,
        ),
      );
    }
    this.picker.value = String(series.id);
    this.picker.addEventListener("change", () => {
      const next = seriesChoices.find((s) => String(s.id) === this.picker.value);
      if (next) this.setSeries(next);
    });
    this.corners = new ViewportCorners(slot, this.picker);
    this.root = el("div", { class: "viewport", "data-slot": slot }, this.canvas, ...this.corners.nodes);
    this.index = Math.floor(series.images.length / 2);
    bindViewportInput(this);
    new ResizeObserver(() => this.resize()).observe(this.root);
    cache.onLoad((id) => this.onPixelsLoaded(id));
    this.startSeries();
  }

  // ----- state -----

  get currentImageId(): number | null {
    return this.series.images[this.index]?.id ?? null;
  }

  get pixels(): PixelArray | undefined {
    const id = this.currentImageId;
    return id === null ? undefined : this.cache.peek(id);
  }

  get view(): SeriesInfo["orientation"] {
    return this.series.orientation;
  }

  setSeries(series: SeriesInfo): void {
    this.series = series;
    this.picker.value = String(series.id);
    this.index = Math.floor(series.images.length / 2);
    this.stats = null;
    this.wlInitialised = false;
    this.transform = null;
    this.lutKey = "";
    this.startSeries();
    for (const l of this.seriesListeners) l(this);
    for (const l of this.sliceListeners) l(this);
  }

  private startSeries(): void {
    this.cache.prefetchSeries(this.series, this.index);
    this.corners.orient(this.series);
    this.invalidate(true);
  }

  setSlice(i: number): void {
    const n = this.series.images.length;
    const next = Math.max(0, Math.min(n - 1, i));
    if (next === this.index) return;
    this.index = next;
    this.cache.reprioritise(this.series, next);
    const id = this.currentImageId;
    if (id !== null && !this.cache.peek(id)) void this.cache.get(id, this.series);
    this.invalidate(true);
    for (const l of this.sliceListeners) l(this);
  }

  scroll(delta: number): void {
    this.setSlice(this.index + delta);
  }

  private ensureStats(): IntensityStats | null {
    const loaded = this.series.images
      .map((im) => this.cache.peek(im.id))
      .filter((p): p is PixelArray => p !== undefined);
    if (loaded.length === 0) return null;
    // Recompute when the loaded share grew a lot (presets then reflect the whole series).
    if (
      !this.stats ||
      loaded.length >= this.statsFrom * 2 ||
      (loaded.length === this.series.images.length && this.statsFrom < loaded.length)
    ) {
      this.stats = intensityStats(loaded);
      this.statsFrom = loaded.length;
    }
    return this.stats;
  }

  applyPreset(index: number): void {
    const stats = this.ensureStats();
    if (!stats) return;
    const w = presetWindow(index, stats, this.series.window);
    this.wl = { ...w, invert: this.wl.invert };
    this.presetName = PRESETS[index]?.name ?? "";
    this.wlInitialised = true;
    this.invalidate(true);
  }

  setWindow(w: Window): void {
    this.wl = { center: w.center, width: w.width, invert: this.wl.invert };
    this.presetName = "Custom";
    this.invalidate(true);
  }

  toggleInvert(): void {
    this.wl = { ...this.wl, invert: !this.wl.invert };
    this.invalidate(true);
  }

  /** Space: fit, default window, not inverted. */
  reset(): void {
    this.transform = null;
    this.wl = { ...this.wl, invert: false };
    this.applyPreset(0);
    this.invalidate(false);
  }

  fit(): void {
    this.transform = null;
    this.invalidate(false);
  }

  zoomBy(factor: number, at?: Point): void {
    const t = this.ensureTransform();
    if (!t) return;
    const c: Point = at ?? [this.canvas.clientWidth / 2, this.canvas.clientHeight / 2];
    this.transform = zoomAt(t, factor, c[0], c[1]);
    this.invalidate(false);
  }

  /** Image-to-screen mapping; null until the canvas has a size (then fitted on first use). */
  get transform(): ViewTransform | null {
    return this.viewTransform;
  }

  private set transform(t: ViewTransform | null) {
    this.viewTransform = t;
    if (!t) {
      delete this.canvas.dataset.view;
      return;
    }
    const [kx, ky] = pixelScale(t);
    this.canvas.dataset.view = JSON.stringify({ offset: [t.panX, t.panY], scale: [kx, ky] });
  }

  /** State what the canvas shows (see the module comment). */
  private publish(state: "loading" | "ready" | "error"): void {
    const d = this.canvas.dataset;
    const id = String(this.currentImageId ?? "");
    const index = String(this.index);
    if (d.imageId !== id) d.imageId = id;
    if (d.sliceIndex !== index) d.sliceIndex = index;
    if (d.state !== state) d.state = state;
  }

  private ensureTransform(): ViewTransform | null {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (w === 0 || h === 0) return null;
    if (!this.transform) {
      const [sr, sc] = this.series.pixel_spacing;
      const fit = {
        viewW: w,
        viewH: h,
        columns: this.series.columns,
        rows: this.series.rows,
        spacingRow: sr || 1,
        spacingCol: sc || 1,
      };
      const box = this.regionOfInterest?.(this) ?? null;
      const t = box ? fitBoxTransform({ ...fit, box }) : fitTransform({ ...fit, margin: 8 });
      this.transform = t;
      this.autoFit = { transform: t, box: JSON.stringify(box) };
    }
    return this.transform;
  }

  toImage(s: Point): Point {
    const t = this.ensureTransform();
    return t ? screenToImage(t, s) : [0, 0];
  }

  toScreen(p: Point): Point {
    const t = this.ensureTransform();
    if (!t) return [0, 0];
    const [kx, ky] = pixelScale(t);
    return [t.panX + p[0] * kx, t.panY + p[1] * ky];
  }

  /** Screen pixels per image pixel along x and y. */
  get scale(): Point {
    const t = this.ensureTransform();
    return t ? pixelScale(t) : [1, 1];
  }

  // ----- rendering -----

  /** Ask for a redraw on the next animation frame; `pixels` re-windows the slice. */
  invalidate(pixels = false): void {
    if (pixels) this.imageDirty = true;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  private onPixelsLoaded(id: number): void {
    if (this.series.images.some((im) => im.id === id)) {
      this.corners.loading(this.cache.loadedCount(this.series), this.series.images.length);
      if (id === this.currentImageId) {
        this.refitIfRegionChanged();
        this.invalidate(true);
      }
    }
  }

  /** A region that depends on the pixels (the tissue box) is known once they arrive: an
   * automatic fit made before then frames it, unless the user has moved the view since. */
  private refitIfRegionChanged(): void {
    const fit = this.autoFit;
    if (!fit || this.transform !== fit.transform) return;
    if (JSON.stringify(this.regionOfInterest?.(this) ?? null) !== fit.box) this.transform = null;
  }

  private resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = this.root.clientWidth;
    const h = this.root.clientHeight;
    this.canvas.width = Math.max(1, Math.round(w * dpr));
    this.canvas.height = Math.max(1, Math.round(h * dpr));
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.transform = null; // refit on resize: the user expects the image to stay framed
    this.invalidate(false);
  }

  private windowSlice(px: PixelArray): void {
    const { columns, rows, dtype } = this.series;
    if (!this.imageData || this.imageData.width !== columns || this.imageData.height !== rows) {
      this.image.width = columns;
      this.image.height = rows;
      this.imageData = new ImageData(columns, rows);
      this.out32 = new Uint32Array(this.imageData.data.buffer);
    }
    if (dtype !== "float32") {
      const key = `${dtype}:${this.wl.center}:${this.wl.width}:${this.wl.invert}`;
      if (key !== this.lutKey) {
        this.lut = buildLut(dtype, this.wl, this.lut);
        this.lutKey = key;
      }
    }
    applyWindow(px, dtype, this.wl, this.out32 as Uint32Array, this.lut);
    (this.image.getContext("2d") as CanvasRenderingContext2D).putImageData(this.imageData, 0, 0);
  }

  private render(): void {
    this.frame = 0;
    const ctx = this.canvas.getContext("2d") as CanvasRenderingContext2D;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const px = this.pixels;
    const t = this.ensureTransform();
    if (px && t) {
      if (!this.wlInitialised) this.applyPresetSilently();
      if (this.imageDirty) this.windowSlice(px);
      this.imageDirty = false;
      const [kx, ky] = pixelScale(t);
      ctx.imageSmoothingEnabled = Math.min(kx, ky) < 3; // crisp pixels when zoomed in, for precise edits
      ctx.drawImage(this.image, t.panX, t.panY, this.series.columns * kx, this.series.rows * ky);
      this.corners.status("");
      for (const d of this.drawers) d(ctx, this);
      this.publish("ready");
    } else {
      const id = this.currentImageId;
      const err = id === null ? "series has no images" : this.cache.error(id);
      this.corners.status(err ? `Could not load this slice: ${err}` : "Loading…");
      this.publish(err ? "error" : "loading");
    }
    const { caseInfo, series, index, wl, presetName, transform } = this;
    this.corners.update({ caseInfo, series, index, wl, presetName, transform });
    this.corners.loading(this.cache.loadedCount(this.series), this.series.images.length);
  }

  private applyPresetSilently(): void {
    const stats = this.ensureStats();
    if (!stats) return;
    const w = presetWindow(0, stats, this.series.window);
    this.wl = { ...w, invert: this.wl.invert };
    this.presetName = PRESETS[0]?.name ?? "";
    this.wlInitialised = true;
    this.imageDirty = true;
  }

  // ----- input (bound by input.ts) -----

  /** Where a pointer event is, on the canvas and in the image. */
  pointerAt(e: PointerEvent | MouseEvent): PointerInfo {
    const r = this.canvas.getBoundingClientRect();
    const screen: Point = [e.clientX - r.left, e.clientY - r.top];
    return { screen, image: this.toImage(screen), event: e };
  }

  /** Move the image by (dx, dy) screen pixels. */
  pan(dx: number, dy: number): void {
    const t = this.ensureTransform();
    if (t) this.transform = panBy(t, dx, dy);
    this.invalidate(false);
  }

  /** The window dragged (dx, dy) screen pixels from `start` (right-drag, or left-drag in Navigate). */
  dragWindowFrom(start: Window, dx: number, dy: number): void {
    const stats = this.ensureStats();
    if (stats) this.setWindow(dragWindow(start, dx, dy, stats));
  }
}
