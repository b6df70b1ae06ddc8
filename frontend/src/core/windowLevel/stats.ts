/** Intensity statistics of a series (range and percentiles) used by the MRI presets. */

import type { PixelArray } from "./lut";

export interface IntensityStats {
  min: number;
  max: number;
  /** Sorted sample of finite values, for percentiles. */
  sample: Float64Array;
}

/**
 * Statistics over one or more slices; at most `maxSamples` values (every k-th) are kept for
 * percentiles. It runs before the first image is drawn: 32k samples in a typed array keep it at a
 * few ms, where a quarter-million-element JS array and its sort took ~60 ms per 512×512 slice.
 */
export function intensityStats(slices: PixelArray[], maxSamples = 32_768): IntensityStats {
  let min = Infinity;
  let max = -Infinity;
  let total = 0;
  for (const s of slices) total += s.length;
  const step = Math.max(1, Math.floor(total / maxSamples));
  const sample = new Float64Array(Math.ceil(total / step));
  let n = 0;
  let k = 0;
  for (const s of slices) {
    for (let i = 0; i < s.length; i++) {
      const v = s[i];
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
      if (k++ % step === 0) sample[n++] = v;
    }
  }
  if (min === Infinity) {
    min = 0;
    max = 0;
  }
  return { min, max, sample: sample.slice(0, n).sort() };
}

/** Percentile p (0..100) of the sample, by linear interpolation. */
export function percentile(stats: IntensityStats, p: number): number {
  const s = stats.sample;
  if (s.length === 0) return stats.min;
  const pos = (Math.min(100, Math.max(0, p)) / 100) * (s.length - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  const a = s[i];
  const b = s[Math.min(s.length - 1, i + 1)];
  return a + (b - a) * f;
}
