/** Window/level over full-bit-depth pixels: typed views, LUTs for integer data, direct mapping for float. */

import type { Dtype } from "../../contract/types";

export type PixelArray = Uint8Array | Uint16Array | Int16Array | Float32Array;

export interface WindowLevel {
  center: number;
  width: number;
  invert: boolean;
}

const BYTES: Record<Dtype, number> = { uint8: 1, uint16: 2, int16: 2, float32: 4 };

export function bytesPerPixel(dtype: Dtype): number {
  return BYTES[dtype];
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * View a little-endian pixel buffer as a typed array of `dtype`.
 * Fails with a message naming the problem when the size does not match rows × columns.
 */
export function pixelView(buffer: ArrayBuffer, dtype: Dtype, count?: number): PixelArray {
  const bpp = BYTES[dtype];
  if (bpp === undefined) throw new Error(`unknown dtype ${String(dtype)}`);
  if (buffer.byteLength % bpp !== 0) {
    throw new Error(`pixel buffer of ${buffer.byteLength} bytes is not a whole number of ${dtype} values`);
  }
  const n = buffer.byteLength / bpp;
  if (count !== undefined && n !== count) {
    throw new Error(`pixel buffer holds ${n} values, expected ${count} (rows × columns)`);
  }
  if (dtype === "uint8") return new Uint8Array(buffer);
  if (LITTLE_ENDIAN_HOST) {
    if (dtype === "uint16") return new Uint16Array(buffer);
    if (dtype === "int16") return new Int16Array(buffer);
    return new Float32Array(buffer);
  }
  // Big-endian hosts are rare but the wire format is fixed: decode explicitly.
  const dv = new DataView(buffer);
  if (dtype === "uint16") return Uint16Array.from({ length: n }, (_, i) => dv.getUint16(i * 2, true));
  if (dtype === "int16") return Int16Array.from({ length: n }, (_, i) => dv.getInt16(i * 2, true));
  return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(i * 4, true));
}

/** Grey value 0..255 of a raw value under a window (linear ramp from center − width/2 to center + width/2). */
export function windowValue(value: number, wl: WindowLevel): number {
  const width = Math.max(wl.width, 1e-6);
  const lo = wl.center - width / 2;
  let g = ((value - lo) / width) * 255;
  if (!(g > 0))
    g = 0; // also maps NaN to black
  else if (g > 255) g = 255;
  g = Math.round(g);
  return wl.invert ? 255 - g : g;
}

/** Packed opaque RGBA (as a little-endian Uint32 in an ImageData buffer) of a grey value. */
export function packGrey(g: number): number {
  return (0xff000000 | (g << 16) | (g << 8) | g) >>> 0;
}

/** Offset that maps a raw integer value to its LUT index. */
export function lutOffset(dtype: Dtype): number {
  return dtype === "int16" ? 32768 : 0;
}

export function lutSize(dtype: Dtype): number {
  return dtype === "uint8" ? 256 : 65536;
}

/** Build (or refill) the packed-RGBA LUT of an integer dtype for a window. */
export function buildLut(dtype: Dtype, wl: WindowLevel, out?: Uint32Array): Uint32Array {
  if (dtype === "float32") throw new Error("float32 data is windowed directly, without a LUT");
  const size = lutSize(dtype);
  const lut = out && out.length === size ? out : new Uint32Array(size);
  const offset = lutOffset(dtype);
  const width = Math.max(wl.width, 1e-6);
  const lo = wl.center - width / 2;
  // Constant runs below and above the window are filled without arithmetic.
  const start = Math.max(0, Math.min(size, Math.ceil(lo + offset)));
  const end = Math.max(0, Math.min(size, Math.floor(lo + width + offset) + 1));
  const black = packGrey(wl.invert ? 255 : 0);
  const white = packGrey(wl.invert ? 0 : 255);
  lut.fill(black, 0, start);
  for (let i = start; i < end; i++) {
    let g = ((i - offset - lo) / width) * 255; // same arithmetic as windowValue
    g = g < 0 ? 0 : g > 255 ? 255 : Math.round(g);
    lut[i] = packGrey(wl.invert ? 255 - g : g);
  }
  lut.fill(white, end, size);
  return lut;
}

/**
 * Window `pixels` into `out` (packed RGBA, e.g. a Uint32Array view of ImageData.data).
 * Integer data goes through `lut` (built by buildLut for the same dtype and window).
 */
export function applyWindow(
  pixels: PixelArray,
  dtype: Dtype,
  wl: WindowLevel,
  out: Uint32Array,
  lut?: Uint32Array,
): void {
  const n = pixels.length;
  if (out.length < n) throw new Error(`output holds ${out.length} pixels, need ${n}`);
  if (dtype === "float32") {
    const width = Math.max(wl.width, 1e-6);
    const lo = wl.center - width / 2;
    const inv = wl.invert;
    for (let i = 0; i < n; i++) {
      let g = ((pixels[i] - lo) / width) * 255;
      g = g > 0 ? (g > 255 ? 255 : (g + 0.5) | 0) : 0;
      if (inv) g = 255 - g;
      out[i] = (0xff000000 | (g << 16) | (g << 8) | g) >>> 0;
    }
    return;
  }
  const table = lut ?? buildLut(dtype, wl);
  const offset = lutOffset(dtype);
  if (offset === 0) {
    for (let i = 0; i < n; i++) out[i] = table[pixels[i]];
  } else {
    for (let i = 0; i < n; i++) out[i] = table[pixels[i] + offset];
  }
}
