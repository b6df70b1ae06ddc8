import { describe, expect, it } from "vitest";
import type { Point, Shape, Template } from "../../../contract/types";
import type { PointerInfo, Viewport } from "../../viewer";
import { AnnotationStore } from "../store";
import { ToolBox } from "./index";

const TEMPLATE: Template = { labels: [{ name: "cord", color: "#0f0", shape_types: ["polygon"] }] };
const IMAGE = 3;
const poly = (label: string, points: Point[]): Shape => ({
  label,
  points,
  shape_type: "polygon",
  group_id: null,
  description: "",
  flags: {},
});

function setup(): { store: AnnotationStore; tools: ToolBox; vp: Viewport } {
  const store = new AnnotationStore();
  // Canal under the cord; their first vertices coincide at (20, 10).
  store.setShapes(IMAGE, [
    poly("canal", [
      [20, 10],
      [40, 10],
      [40, 60],
    ]),
    poly("cord", [
      [20, 10],
      [30, 12],
      [30, 58],
    ]),
  ]);
  const tools = new ToolBox(store, TEMPLATE, () => {});
  tools.setTool("edit");
  const vp = {
    currentImageId: IMAGE,
    view: "sagittal",
    series: { columns: 100, rows: 80, pixel_spacing: [1, 1] },
    toScreen: (p: Point): Point => [p[0] * 2, p[1] * 2],
    toImage: (s: Point): Point => [s[0] / 2, s[1] / 2],
  } as unknown as Viewport;
  return { store, tools, vp };
}

const at = (x: number, y: number): PointerInfo => ({
  screen: [x * 2, y * 2],
  image: [x, y],
  event: { altKey: false } as PointerEvent,
});

function dragVertex(tools: ToolBox, vp: Viewport, to: Point): void {
  tools.down(vp, at(20, 10));
  tools.move(vp, at(...to), true);
  tools.up(vp, at(...to));
}

describe("picking among overlapping shapes", () => {
  it("drags the topmost shape's vertex when nothing is selected", () => {
    const { store, tools, vp } = setup();
    tools.move(vp, at(20, 10), false);
    expect(tools.kit.hover).toMatchObject({ shape: 1, kind: "vertex", index: 0 });
    dragVertex(tools, vp, [22, 5]);
    expect(store.shapesOf(IMAGE)[1].points[0]).toEqual([22, 5]);
    expect(store.shapesOf(IMAGE)[0].points[0]).toEqual([20, 10]);
  });

  it("drags the selected shape's vertex over the topmost", () => {
    const { store, tools, vp } = setup();
    store.select({ imageId: IMAGE, index: 0 });
    dragVertex(tools, vp, [22, 5]);
    expect(store.shapesOf(IMAGE)[0].points[0]).toEqual([22, 5]);
    expect(store.shapesOf(IMAGE)[1].points[0]).toEqual([20, 10]);
  });

  it("Tab hovers the next shape under the pointer and the press takes it", () => {
    const { store, tools, vp } = setup();
    tools.move(vp, at(20, 10), false);
    expect(tools.kit.cycleHover()).toBe(true);
    expect(tools.kit.hover).toMatchObject({ shape: 0, kind: "vertex" });
    dragVertex(tools, vp, [18, 4]);
    expect(store.shapesOf(IMAGE)[0].points[0]).toEqual([18, 4]);
    expect(store.shapesOf(IMAGE)[1].points[0]).toEqual([20, 10]);
  });

  it("never picks, moves or deletes a locked shape", () => {
    const { store, tools, vp } = setup();
    store.toggleLock(IMAGE, 1);
    dragVertex(tools, vp, [25, 5]);
    expect(store.shapesOf(IMAGE)[0].points[0]).toEqual([25, 5]);
    expect(store.shapesOf(IMAGE)[1].points[0]).toEqual([20, 10]);
    store.deleteShape(IMAGE, 1);
    expect(store.shapesOf(IMAGE)).toHaveLength(2);
  });
});

describe("the line tool", () => {
  it("draws an unsaved ruler unless a caliper label is picked, then a caliper with that label", () => {
    const store = new AnnotationStore();
    const template: Template = {
      labels: [
        { name: "cord", color: "#0f0", shape_types: ["polygon"] },
        { name: "d_i", color: "#f00", shape_types: ["line"] },
      ],
    };
    store.activeLabel = "cord";
    const tools = new ToolBox(store, template, () => {});
    const vp = {
      currentImageId: IMAGE,
      view: "sagittal",
      series: { columns: 100, rows: 80, pixel_spacing: [1, 1] },
      toScreen: (p: Point): Point => [p[0], p[1]],
      toImage: (s: Point): Point => [s[0], s[1]],
    } as unknown as Viewport;
    const line = (a: Point, b: Point): void => {
      tools.down(vp, { screen: a, image: a, event: {} as PointerEvent });
      tools.move(vp, { screen: b, image: b, event: {} as PointerEvent }, true);
      tools.up(vp, { screen: b, image: b, event: {} as PointerEvent });
    };
    tools.setTool("line");
    expect(store.activeLabel).toBe("cord");
    line([10, 10], [40, 10]);
    expect(store.shapesOf(IMAGE)).toEqual([]);
    expect(tools.kit.rulers.get(IMAGE)).toEqual([
      [
        [10, 10],
        [40, 10],
      ],
    ]);
    store.activeLabel = "d_i";
    line([10, 20], [40, 20]);
    expect(store.shapesOf(IMAGE)).toMatchObject([{ label: "d_i", shape_type: "line" }]);
  });
});
