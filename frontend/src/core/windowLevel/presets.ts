/** Window presets suited to MRI, whose intensities have no absolute unit: defined on the series' own distribution. */

import type { IntensityStats } from "./stats";
import { percentile } from "./stats";

export interface Preset {
  key: string;
  name: string;
  describe: string;
}

export const PRESETS: readonly Preset[] = [
  { key: "1", name: "Default", describe: "window from the series header (auto 1–99 % when absent)" },
  { key: "2", name: "T2 spine", describe: "soft tissue: 2nd to 99.5th percentile" },
  { key: "3", name: "CSF / cord", describe: "high contrast in the bright range: cord against CSF" },
  { key: "4", name: "Bone / disc", describe: "darker range: vertebral bodies, discs, ligaments" },
  { key: "5", name: "Full range", describe: "minimum to maximum of the series" },
];

export interface Window {
  center: number;
  width: number;
}

function span(lo: number, hi: number, minWidth: number): Window {
  const width = Math.max(hi - lo, minWidth);
  return { center: (lo + hi) / 2, width };
}

/** The window of preset `index` (0-based) for a series with `stats` and an optional header window. */
export function presetWindow(index: number, stats: IntensityStats, header: Window | null): Window {
  const minWidth = stats.max - stats.min > 10 ? 1 : 1e-3;
  switch (index) {
    case 0:
      if (header && Number.isFinite(header.center) && Number.isFinite(header.width) && header.width > 0) {
        return { center: header.center, width: header.width };
      }
      return span(percentile(stats, 1), percentile(stats, 99), minWidth);
    case 1:
      return span(percentile(stats, 2), percentile(stats, 99.5), minWidth);
    case 2:
      return span(percentile(stats, 55), percentile(stats, 99.8), minWidth);
    case 3:
      return span(percentile(stats, 0.5), percentile(stats, 80), minWidth);
    default:
      return span(stats.min, stats.max, minWidth);
  }
}

/** Window after a mouse drag of (dx, dy) screen pixels: right widens, down raises the level (as in OHIF). */
export function dragWindow(start: Window, dx: number, dy: number, stats: IntensityStats): Window {
  const range = Math.max(stats.max - stats.min, 1e-3);
  const sensitivity = range / 512; // a 512-px drag sweeps the whole range
  const width = Math.max(start.width + dx * sensitivity, range / 4096, 1e-6);
  const center = start.center + dy * sensitivity;
  return { center, width };
}
