import { describe, expect, it } from "vitest";
import { exportLabelme, importLabelme, labelmeText, normaliseShape } from "./index";

const file = {
  version: "5.4.1",
  flags: { compression_present: true },
  shapes: [
    {
      label: "cord",
      points: [
        [10.5, 20],
        [30, 22.25],
        [28, 60],
      ],
      group_id: 3,
      description: "checked",
      shape_type: "polygon",
      flags: { uncertain: false },
      mask: null,
      other_tool: { score: 0.93, nested: [1, 2] },
    },
    {
      label: "C3_AS",
      points: [[100, 50]],
      group_id: null,
      description: "",
      shape_type: "point",
      flags: {},
      mask: null,
    },
  ],
  imagePath: "slice_007.png",
  imageData: null,
  imageHeight: 256,
  imageWidth: 320,
  lineColor: [0, 255, 0, 128],
  x_custom_top: "kept",
};

describe("labelme import/export", () => {
  it("round-trips a file exactly, keeping unknown keys at both levels and their order", () => {
    const text = JSON.stringify(file, null, 2) + "\n";
    const parsed = importLabelme(text);
    const out = exportLabelme({ shapes: parsed.shapes, base: parsed, imagePath: "x", imageHeight: 1, imageWidth: 1 });
    expect(out).toEqual(file);
    expect(labelmeText(out)).toBe(text);
  });

  it("does not invent keys that an older file lacks", () => {
    const old = {
      shapes: [
        {
          label: "cord",
          points: [
            [1, 1],
            [2, 1],
            [2, 2],
          ],
          shape_type: "polygon",
          line_color: null,
        },
      ],
    };
    const parsed = importLabelme(old);
    expect(
      exportLabelme({ shapes: parsed.shapes, base: parsed, imagePath: "x", imageHeight: 1, imageWidth: 1 }),
    ).toEqual(old);
  });

  it("writes labelme 5 top-level keys for a fresh file", () => {
    const s = normaliseShape({
      label: "cord",
      points: [
        [1, 1],
        [2, 1],
        [2, 2],
      ],
      shape_type: "polygon",
    });
    const out = exportLabelme({ shapes: [s], base: null, imagePath: "img_12.png", imageHeight: 256, imageWidth: 320 });
    expect(Object.keys(out)).toEqual([
      "version",
      "flags",
      "shapes",
      "imagePath",
      "imageData",
      "imageHeight",
      "imageWidth",
    ]);
    expect(out.shapes[0]).toEqual({
      label: "cord",
      points: [
        [1, 1],
        [2, 1],
        [2, 2],
      ],
      group_id: null,
      description: "",
      shape_type: "polygon",
      flags: {},
      mask: null,
    });
  });

  it("copies points so later edits do not change the exported file", () => {
    const parsed = importLabelme(file);
    const out = exportLabelme({ shapes: parsed.shapes, base: parsed, imagePath: "x", imageHeight: 1, imageWidth: 1 });
    parsed.shapes[0].points[0][0] = 999;
    expect(out.shapes[0].points[0][0]).toBe(10.5);
  });

  it("names the problem in a bad file", () => {
    expect(() => importLabelme("[]")).toThrow(/top level/);
    expect(() => importLabelme({ shapes: [{ label: "a" }] })).toThrow(/shape 0 has no points/);
    expect(() => importLabelme({ shapes: [{ label: "a", points: [[1, "x"]] }] })).toThrow(/point 0/);
  });
});
