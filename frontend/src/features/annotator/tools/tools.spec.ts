import { describe, expect, it } from "vitest";
import type { Point, Template } from "../../../contract/types";
import type { PointerInfo, Viewport } from "../../viewer";
import { AnnotationStore } from "../store";
import { ToolBox } from "./index";

const TEMPLATE: Template = {
  labels: [
    { name: "cord", color: "#0f0", shape_types: ["polygon", "mask"] },
    { name: "box", color: "#00f", shape_types: ["rectangle"] },
    { name: "d_i", color: "#f00", shape_types: ["line"] },
    { name: "marker", color: "#ff0", shape_types: ["point"] },
  ],
  keypoint_sets: [{ name: "corners", view: "sagittal", points: ["C3_AS", "C3_AI"] }],
};
const IMAGE = 7;

/** A 100×80 slice shown 1:1 at the canvas origin; pixels are 0.5 mm wide and 1 mm high. */
function viewport(): Viewport {
  const stub = {
    currentImageId: IMAGE,
    view: "sagittal",
    series: { columns: 100, rows: 80, pixel_spacing: [1, 0.5] },
    toScreen: (p: Point): Point => [p[0], p[1]],
    toImage: (s: Point): Point => [s[0], s[1]],
  };
  return stub as unknown as Viewport;
}

function at(x: number, y: number, altKey = false): PointerInfo {
  return { screen: [x, y], image: [x, y], event: { altKey } as PointerEvent };
}

function setup(): { store: AnnotationStore; tools: ToolBox; vp: Viewport } {
  const store = new AnnotationStore();
  const tools = new ToolBox(store, TEMPLATE, () => {});
  return { store, tools, vp: viewport() };
}

function click(tools: ToolBox, vp: Viewport, x: number, y: number): void {
  tools.down(vp, at(x, y));
  tools.up(vp, at(x, y));
}

function drag(tools: ToolBox, vp: Viewport, from: Point, to: Point): void {
  tools.down(vp, at(...from));
  tools.move(vp, at(...to), true);
  tools.up(vp, at(...to));
}

describe("ToolBox", () => {
  it("leaves a left-drag to window/level in navigate", () => {
    const { tools, vp } = setup();
    expect(tools.down(vp, at(10, 10))).toBe(false);
  });

  it("draws a polygon by clicks and closes it with Enter, picking a label that allows polygons", () => {
    const { store, tools, vp } = setup();
    store.activeLabel = "marker";
    tools.setTool("polygon");
    for (const [x, y] of [
      [10, 10],
      [40, 10],
      [40, 30],
    ] as Point[])
      click(tools, vp, x, y);
    expect(tools.draft()?.points).toHaveLength(3);
    expect(tools.finishDraft()).toBe(true);
    const [shape] = store.shapesOf(IMAGE);
    expect(shape.label).toBe("cord");
    expect(shape.shape_type).toBe("polygon");
    expect(shape.points).toEqual([
      [10, 10],
      [40, 10],
      [40, 30],
    ]);
    expect(tools.draft()).toBeNull();
  });

  it("closes a polygon on a click near its first point", () => {
    const { store, tools, vp } = setup();
    tools.setTool("polygon");
    for (const [x, y] of [
      [10, 10],
      [40, 10],
      [40, 30],
      [12, 11],
    ] as Point[])
      click(tools, vp, x, y);
    expect(store.shapesOf(IMAGE)[0].points).toHaveLength(3);
  });

  it("drags a rectangle and clicks a line twice; points stay inside the image", () => {
    const { store, tools, vp } = setup();
    tools.setTool("rectangle");
    drag(tools, vp, [5, 5], [150, 20]);
    store.activeLabel = "d_i"; // a caliper label the user picked (else the line tool draws a ruler)
    tools.setTool("line");
    click(tools, vp, 10, 10);
    expect(store.shapesOf(IMAGE)).toHaveLength(1); // the first click only starts the line
    click(tools, vp, 30, 10);
    const [rect, line] = store.shapesOf(IMAGE);
    expect(rect).toMatchObject({
      label: "box",
      shape_type: "rectangle",
      points: [
        [5, 5],
        [100, 20],
      ],
    });
    expect(line).toMatchObject({
      label: "d_i",
      shape_type: "line",
      points: [
        [10, 10],
        [30, 10],
      ],
    });
  });

  it("reports a line's live length in mm while it is dragged", () => {
    const { tools, vp } = setup();
    tools.setTool("line");
    tools.down(vp, at(10, 10));
    tools.move(vp, at(30, 10), true); // 20 px × 0.5 mm
    expect(tools.draft()?.lengthMm).toBeCloseTo(10);
    tools.move(vp, at(10, 25), true); // 15 px × 1 mm
    expect(tools.draft()?.lengthMm).toBeCloseTo(15);
  });

  it("places keypoints in the set's order and moves a placed one by dragging it", () => {
    const { store, tools, vp } = setup();
    tools.setTool("keypoint");
    click(tools, vp, 20, 20);
    click(tools, vp, 20, 40);
    expect(store.shapesOf(IMAGE).map((s) => s.label)).toEqual(["C3_AS", "C3_AI"]);
    drag(tools, vp, [20, 20], [22, 18]);
    expect(store.shapesOf(IMAGE)[0].points).toEqual([[22, 18]]);
    expect(store.shapesOf(IMAGE)).toHaveLength(2);
  });

  it("moves a shape in edit mode as one undo step, and inserts no vertex into a point", () => {
    const { store, tools, vp } = setup();
    tools.setTool("point");
    click(tools, vp, 50, 50);
    tools.setTool("edit");
    tools.down(vp, at(50, 50));
    tools.move(vp, at(55, 52), true);
    tools.move(vp, at(60, 54), true);
    tools.up(vp, at(60, 54));
    expect(store.shapesOf(IMAGE)[0].points).toEqual([[60, 54]]);
    store.undo();
    expect(store.shapesOf(IMAGE)[0].points).toEqual([[50, 50]]);
  });

  it("paints a mask with the brush and removes it when the eraser empties it", () => {
    const { store, tools, vp } = setup();
    tools.setTool("brush");
    drag(tools, vp, [20, 20], [30, 20]);
    const [mask] = store.shapesOf(IMAGE);
    expect(mask).toMatchObject({ label: "cord", shape_type: "mask" });
    expect(mask.mask).toBeTruthy();
    tools.kit.brushMm = 20;
    tools.setTool("eraser");
    drag(tools, vp, [15, 20], [35, 20]);
    expect(store.shapesOf(IMAGE)).toEqual([]);
  });

  it("drops the draft and the drag on a tool change", () => {
    const { store, tools, vp } = setup();
    tools.setTool("polygon");
    click(tools, vp, 10, 10);
    tools.setTool("rectangle");
    expect(tools.draft()).toBeNull();
    expect(store.shapesOf(IMAGE)).toEqual([]);
  });
});
