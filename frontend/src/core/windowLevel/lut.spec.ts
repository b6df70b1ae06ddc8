import { describe, expect, it } from "vitest";
import { applyWindow, buildLut, packGrey, pixelView, windowValue } from "./lut";
import { intensityStats, percentile } from "./stats";
import { dragWindow, presetWindow } from "./presets";

const grey = (packed: number) => packed & 0xff;

describe("windowValue", () => {
  it("maps the window's ends to black and white and its centre to mid-grey", () => {
    const wl = { center: 1000, width: 400, invert: false };
    expect(windowValue(800, wl)).toBe(0);
    expect(windowValue(1200, wl)).toBe(255);
    expect(windowValue(1000, wl)).toBe(128);
    expect(windowValue(-5, wl)).toBe(0);
    expect(windowValue(60000, wl)).toBe(255);
  });

  it("inverts", () => {
    const wl = { center: 1000, width: 400, invert: true };
    expect(windowValue(800, wl)).toBe(255);
    expect(windowValue(1200, wl)).toBe(0);
  });
});

describe("applyWindow", () => {
  it("uses the full 16-bit range of uint16 data (values above 255 stay distinct)", () => {
    const px = new Uint16Array([0, 3000, 3100, 3200, 65535]);
    const out = new Uint32Array(px.length);
    const wl = { center: 3100, width: 200, invert: false };
    applyWindow(px, "uint16", wl, out);
    expect(Array.from(out, grey)).toEqual([0, 0, 128, 255, 255]);
    expect(out[2]).toBe(packGrey(128));
  });

  it("matches windowValue for every uint16 value through the LUT", () => {
    const wl = { center: 12345.5, width: 777, invert: false };
    const lut = buildLut("uint16", wl);
    for (let v = 0; v < 65536; v += 7) expect(grey(lut[v])).toBe(windowValue(v, wl));
  });

  it("handles negative int16 values through the offset LUT", () => {
    const px = new Int16Array([-32768, -100, 0, 100, 32767]);
    const out = new Uint32Array(px.length);
    const wl = { center: 0, width: 200, invert: false };
    applyWindow(px, "int16", wl, out);
    expect(Array.from(out, grey)).toEqual([0, 0, 128, 255, 255]);
  });

  it("windows float32 directly, including fractional windows and NaN", () => {
    const px = new Float32Array([0, 0.25, 0.5, 0.75, 1, Number.NaN]);
    const out = new Uint32Array(px.length);
    applyWindow(px, "float32", { center: 0.5, width: 1, invert: false }, out);
    expect(Array.from(out, grey)).toEqual([0, 64, 128, 191, 255, 0]);
    applyWindow(px, "float32", { center: 0.5, width: 1, invert: true }, out);
    expect(Array.from(out, grey)).toEqual([255, 191, 127, 64, 0, 255]);
  });

  it("inverts uint8 through the LUT", () => {
    const px = new Uint8Array([0, 128, 255]);
    const out = new Uint32Array(3);
    applyWindow(px, "uint8", { center: 127.5, width: 255, invert: true }, out);
    expect(Array.from(out, grey)).toEqual([255, 127, 0]);
  });

  it("writes opaque pixels", () => {
    const out = new Uint32Array(1);
    applyWindow(new Uint16Array([5]), "uint16", { center: 0, width: 10, invert: false }, out);
    expect(out[0] >>> 24).toBe(255);
  });
});

describe("pixelView", () => {
  it("reads little-endian values of each dtype", () => {
    const buf = new ArrayBuffer(4);
    new DataView(buf).setUint16(0, 4000, true);
    new DataView(buf).setInt16(2, -7, true);
    expect(pixelView(buf, "uint16")[0]).toBe(4000);
    expect(pixelView(buf, "int16")[1]).toBe(-7);
    const f = new ArrayBuffer(4);
    new DataView(f).setFloat32(0, 1.5, true);
    expect(pixelView(f, "float32")[0]).toBe(1.5);
  });

  it("refuses a buffer whose size does not match rows × columns", () => {
    expect(() => pixelView(new ArrayBuffer(6), "uint16", 4)).toThrow(/expected 4/);
    expect(() => pixelView(new ArrayBuffer(3), "uint16")).toThrow(/whole number/);
  });
});

describe("presets", () => {
  const px = new Uint16Array(1000).map((_, i) => i * 4);
  const stats = intensityStats([px]);

  it("takes the header window for preset 1 and falls back to percentiles", () => {
    expect(presetWindow(0, stats, { center: 10, width: 20 })).toEqual({ center: 10, width: 20 });
    const auto = presetWindow(0, stats, null);
    expect(auto.center - auto.width / 2).toBeCloseTo(percentile(stats, 1));
    expect(auto.center + auto.width / 2).toBeCloseTo(percentile(stats, 99));
  });

  it("spans the full range for preset 5", () => {
    expect(presetWindow(4, stats, null)).toEqual({ center: 1998, width: 3996 });
  });

  it("gives the CSF preset a narrower, brighter window than the soft-tissue one", () => {
    const soft = presetWindow(1, stats, null);
    const csf = presetWindow(2, stats, null);
    expect(csf.width).toBeLessThan(soft.width);
    expect(csf.center).toBeGreaterThan(soft.center);
  });

  it("widens the window when dragging right and raises the level when dragging down", () => {
    const w = dragWindow({ center: 100, width: 100 }, 10, 5, stats);
    expect(w.width).toBeGreaterThan(100);
    expect(w.center).toBeGreaterThan(100);
    expect(dragWindow({ center: 100, width: 100 }, -100000, 0, stats).width).toBeGreaterThan(0);
  });
});

describe("intensity stats of a full slice", () => {
  it("samples a 512×512 slice and keeps its percentiles within a fraction of a percent", () => {
    const px = new Uint16Array(512 * 512);
    let seed = 7;
    for (let i = 0; i < px.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      px[i] = (seed >>> 16) % 4096;
    }
    const stats = intensityStats([px]);
    expect(stats.sample.length).toBeLessThanOrEqual(32_768 + 1);
    const exact = Float64Array.from(px).sort();
    expect(stats.min).toBe(exact[0]);
    expect(stats.max).toBe(exact[exact.length - 1]);
    for (const p of [1, 50, 99]) {
      const truth = exact[Math.round((p / 100) * (exact.length - 1))];
      expect(Math.abs(percentile(stats, p) - truth)).toBeLessThan(4096 * 0.005);
    }
  });
});
