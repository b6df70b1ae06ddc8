import { describe, expect, it } from "vitest";
import { deflateSync, zlibSync } from "fflate";
import type { Shape } from "../../contract/types";
import valid from "../../contract/fixtures/valid_shapes.json";
import {
  base64ToBytes,
  bytesToBase64,
  cropMask,
  decodeMaskPng,
  encodeMaskPng,
  maskContains,
  maskFromShape,
  maskPixelCount,
  maskToShapeFields,
  paintDisc,
  paintStroke,
} from "./index";

describe("base64", () => {
  it("round-trips every remainder length", () => {
    for (let n = 0; n < 10; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 77 + 3) & 0xff);
      expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    }
    expect(bytesToBase64(new TextEncoder().encode("Man"))).toBe("TWFu");
    expect(bytesToBase64(new TextEncoder().encode("Ma"))).toBe("TWE=");
  });
});

describe("PNG masks", () => {
  it("round-trips a mask through PNG", () => {
    const data = Uint8Array.from({ length: 35 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const back = decodeMaskPng(encodeMaskPng({ width: 7, height: 5, data }));
    expect(back).toEqual({ width: 7, height: 5, data });
  });

  it("decodes the mask of the shared fixture (written by Python zlib)", () => {
    const c = valid.cases.find((k) => k.shapes.some((s) => s.shape_type === "mask"));
    const m = maskFromShape(c?.shapes[0] as unknown as Shape);
    expect([m.width, m.height, m.x0, m.y0]).toEqual([2, 2, 10, 10]);
    expect(Array.from(m.data)).toEqual([1, 0, 1, 1]);
  });

  it("decodes 1-bit PNGs (PIL mode '1') with a sub filter", () => {
    // 10×1 image, bits 1011000001 in one row, filter type 1 (sub) on 2 bytes
    const row = [0b10110000, 0b01000000];
    const raw = Uint8Array.from([1, row[0], (row[1] - row[0]) & 0xff]);
    const ihdr = [0, 0, 0, 10, 0, 0, 0, 1, 1, 0, 0, 0, 0];
    const png = buildPng(ihdr, zlibSync(raw));
    expect(Array.from(decodeMaskPng(png).data)).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
  });

  it("refuses data that is not a PNG", () => {
    expect(() => decodeMaskPng(deflateSync(new Uint8Array(4)))).toThrow(/not a PNG/);
  });
});

describe("brush", () => {
  it("paints a round disc in mm on anisotropic pixels and erases it", () => {
    // rows 2× taller than columns: a 4 mm radius is 4 columns and 2 rows
    const m = paintDisc(null, [20, 20], 4, 2, 1, 100, 100);
    expect(m).not.toBeNull();
    const placed = cropMask(m!)!;
    expect(placed.width).toBe(8);
    expect(placed.height).toBe(4);
    expect(maskContains(placed, [20, 20])).toBe(true);
    expect(maskContains(placed, [20, 23])).toBe(false);
    const erased = paintDisc(placed, [20, 20], 10, 10, 0, 100, 100)!;
    expect(maskPixelCount(erased)).toBe(0);
    expect(cropMask(erased)).toBeNull();
  });

  it("clips at the image border and round-trips into labelme fields", () => {
    const m = paintStroke(null, [0, 0], [5, 0], 1.5, 1.5, 1, 6, 6)!;
    const c = cropMask(m)!;
    expect(c.x0).toBe(0);
    expect(c.y0).toBe(0);
    const fields = maskToShapeFields(c);
    expect(fields.points[1]).toEqual([c.width - 1, c.height - 1]);
    const back = maskFromShape({
      label: "cord",
      points: fields.points,
      group_id: null,
      description: "",
      shape_type: "mask",
      flags: {},
      mask: fields.mask,
    });
    expect(back).toEqual(c);
  });
});

function buildPng(ihdr: number[], idat: Uint8Array): Uint8Array {
  const header = encodeMaskPng({ width: 1, height: 1, data: new Uint8Array(1) });
  // Reuse the encoder's chunk layout: signature + our IHDR + IDAT + IEND, CRCs are not checked by the decoder.
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    new DataView(out.buffer).setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    return out;
  };
  const parts = [
    header.subarray(0, 8),
    chunk("IHDR", Uint8Array.from(ihdr)),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array(0)),
  ];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
