/** Window/level: pure mapping of full-bit-depth pixels to grey (no DOM). */
export type { PixelArray, WindowLevel } from "./lut";
export { applyWindow, buildLut, bytesPerPixel, lutOffset, lutSize, packGrey, pixelView, windowValue } from "./lut";
export type { IntensityStats } from "./stats";
export { intensityStats, percentile } from "./stats";
export type { Preset, Window } from "./presets";
export { dragWindow, PRESETS, presetWindow } from "./presets";
