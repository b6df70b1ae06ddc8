/** In-page timing of window/level rendering, exposed as window.__viewerStats for benchmarks and tests. */

export interface ViewerStats {
  wlFrames: number;
  wlMsP50: number;
  wlMsP95: number;
  firstImageMs: number | null;
  /** Milliseconds between consecutive frames while dragging window/level (requestAnimationFrame). */
  wlFrameIntervalP50: number;
  slicesLoaded: number;
}

declare global {
  interface Window {
    __viewerStats: ViewerStats;
  }
}

const renderMs: number[] = [];
const intervals: number[] = [];
let lastFrameAt = 0;

export const viewerStats: ViewerStats = {
  wlFrames: 0,
  wlMsP50: 0,
  wlMsP95: 0,
  firstImageMs: null,
  wlFrameIntervalP50: 0,
  slicesLoaded: 0,
};
window.__viewerStats = viewerStats;

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Record one window/level frame: its render cost and the time since the previous W/L frame. */
export function recordWlFrame(ms: number, frameTime: number): void {
  viewerStats.wlFrames += 1;
  renderMs.push(ms);
  if (renderMs.length > 2000) renderMs.shift();
  if (lastFrameAt && frameTime - lastFrameAt < 200) {
    intervals.push(frameTime - lastFrameAt);
    if (intervals.length > 2000) intervals.shift();
  }
  lastFrameAt = frameTime;
  viewerStats.wlMsP50 = Number(pct(renderMs, 50).toFixed(3));
  viewerStats.wlMsP95 = Number(pct(renderMs, 95).toFixed(3));
  viewerStats.wlFrameIntervalP50 = Number(pct(intervals, 50).toFixed(3));
}

export function recordFirstImage(): void {
  if (viewerStats.firstImageMs === null) viewerStats.firstImageMs = Math.round(performance.now());
}
