/** Annotation tools (labelme's create and edit modes, keypoints, brush/eraser) as a viewport tool. */

import type { KeypointSetDef, Point, Shape, ShapeType, Template } from "../../contract/types";
import type { Hit } from "../../core/geometry";
import { clampToImage, deleteVertex, hitTest, insertVertex, translatePoints } from "../../core/geometry";
import { nextKeypoint } from "../../core/keypoints";
import { normaliseShape } from "../../core/labelme";
import type { PlacedMask } from "../../core/mask";
import { cloneMask, cropMask, maskContains, maskToShapeFields, paintStroke } from "../../core/mask";
import { labelRule } from "../../core/validation";
import { toast } from "../ui/dom";
import type { PointerInfo, Viewport, ViewportTool } from "../viewer";
import { forgetMaskCanvas } from "./render";
import type { AnnotationStore, AnnotDoc } from "./store";

export type ToolName =
  "navigate" | "edit" | "polygon" | "rectangle" | "line" | "point" | "keypoint" | "brush" | "eraser";

const SHAPE_OF: Partial<Record<ToolName, ShapeType>> = {
  polygon: "polygon",
  rectangle: "rectangle",
  line: "line",
  point: "point",
  brush: "mask",
  eraser: "mask",
};

const MIN_POINTS: Partial<Record<ShapeType, number>> = { polygon: 3, linestrip: 2 };

type Drag =
  | { kind: "vertex"; shape: number; index: number; before: AnnotDoc }
  | { kind: "move"; shape: number; from: Point; orig: Shape; before: AnnotDoc }
  | { kind: "paint"; last: Point; before: AnnotDoc; shapeIndex: number; mask: PlacedMask | null }
  | { kind: "two"; start: Point }
  | null;

export class AnnotatorTool implements ViewportTool {
  name: ToolName = "navigate";
  draft: Point[] = [];
  draftView: Viewport | null = null;
  cursorImage: Point | null = null;
  hover: Hit | null = null;
  brushMm = 2;
  private drag: Drag = null;
  onToolChange: (name: ToolName) => void = () => {};

  constructor(
    private readonly store: AnnotationStore,
    private readonly template: Template,
    private readonly redraw: () => void,
  ) {}

  setTool(name: ToolName): void {
    if (!this.store.editable && name !== "navigate") {
      toast("This read is not editable: view only", "warn");
      name = "navigate";
    }
    this.cancelDraft();
    this.name = name;
    if (SHAPE_OF[name]) this.ensureLabelFor(SHAPE_OF[name] as ShapeType);
    this.onToolChange(name);
    this.redraw();
  }

  cancelDraft(): void {
    this.draft = [];
    this.draftView = null;
    this.drag = null;
    this.redraw();
  }

  /** Pick a label that allows `type` when the active one does not. */
  ensureLabelFor(type: ShapeType): string | null {
    const cur = this.store.activeLabel;
    if (cur && labelRule(this.template, cur)?.shapeTypes.includes(type)) return cur;
    const first = this.template.labels.find((l) => l.shape_types.includes(type));
    if (!first) {
      toast(`No label of this project allows ${type} shapes`, "warn");
      return null;
    }
    this.store.activeLabel = first.name;
    this.store.emit("view");
    return first.name;
  }

  keypointSet(vp: Viewport): KeypointSetDef | null {
    const sets = this.template.keypoint_sets ?? [];
    return sets.find((s) => !s.view || s.view === vp.view) ?? null;
  }

  private imageId(vp: Viewport): number | null {
    return vp.currentImageId;
  }

  private clamp(vp: Viewport, p: Point): Point {
    return clampToImage(p, vp.series.columns, vp.series.rows);
  }

  private hitAt(vp: Viewport, p: PointerInfo): Hit | null {
    const shapes = this.store.shapesOf(this.imageId(vp));
    const sel = this.store.selection;
    const selected = new Set<number>(sel && sel.imageId === this.imageId(vp) ? [sel.index] : []);
    return hitTest(shapes, p.screen, (q) => vp.toScreen(q), {
      tolerance: 6,
      selected,
      visible: (i) => this.store.isVisible(shapes[i]),
      maskContains: (i, q) => {
        const m = this.store.maskOf(shapes[i]);
        return m ? maskContains(m, q) : false;
      },
      toImage: (s) => vp.toImage(s),
    });
  }

  private create(vp: Viewport, type: ShapeType, points: Point[], label?: string): void {
    const id = this.imageId(vp);
    if (id === null) return;
    const name = label ?? this.ensureLabelFor(type);
    if (!name) return;
    const shape = normaliseShape({ label: name, points: points.map((p) => this.clamp(vp, p)), shape_type: type });
    this.store.addShape(id, shape);
  }

  // ----- ViewportTool -----

  down(vp: Viewport, p: PointerInfo): boolean {
    const ev = p.event;
    const id = this.imageId(vp);
    if (this.name === "navigate" || id === null) return false;
    const img = this.clamp(vp, p.image);
    switch (this.name) {
      case "edit": {
        const hit = this.hitAt(vp, p);
        if (!hit) {
          this.store.select(null);
          return false;
        }
        const shapes = this.store.shapesOf(id);
        const shape = shapes[hit.shape];
        this.store.select({ imageId: id, index: hit.shape });
        if (hit.kind === "vertex") {
          if (ev.altKey) {
            this.removeVertex(id, hit.shape, hit.index);
            return true;
          }
          this.drag = { kind: "vertex", shape: hit.shape, index: hit.index, before: this.store.doc };
        } else {
          this.drag = { kind: "move", shape: hit.shape, from: p.image, orig: shape, before: this.store.doc };
        }
        return true;
      }
      case "polygon": {
        if (this.draftView && this.draftView !== vp) this.cancelDraft();
        this.draftView = vp;
        const first = this.draft[0];
        if (first && this.draft.length >= 3) {
          const a = vp.toScreen(first);
          if (Math.hypot(a[0] - p.screen[0], a[1] - p.screen[1]) < 8) {
            this.finishPolygon(vp);
            return true;
          }
        }
        this.draft.push(img);
        this.redraw();
        return true;
      }
      case "rectangle":
      case "line": {
        if (this.draftView === vp && this.draft.length === 1) {
          // Second click of click-click drawing.
          this.finishTwo(vp, img);
          return true;
        }
        this.draftView = vp;
        this.draft = [img];
        this.drag = { kind: "two", start: img };
        return true;
      }
      case "point":
        this.create(vp, "point", [img]);
        return true;
      case "keypoint": {
        const set = this.keypointSet(vp);
        if (!set) {
          toast("No keypoint set is defined for this view", "warn");
          return true;
        }
        const hit = this.hitAt(vp, p);
        const shapes = this.store.shapesOf(id);
        if (hit && hit.kind === "vertex" && set.points.includes(shapes[hit.shape].label)) {
          this.store.select({ imageId: id, index: hit.shape });
          this.drag = { kind: "vertex", shape: hit.shape, index: 0, before: this.store.doc };
          return true;
        }
        const next = nextKeypoint(set, shapes);
        if (!next) {
          toast("All keypoints of the set are placed; drag one to move it", "info");
          return true;
        }
        this.create(vp, "point", [img], next);
        return true;
      }
      case "brush":
      case "eraser": {
        const label = this.ensureLabelFor("mask");
        if (!label) return true;
        const shapes = this.store.shapesOf(id);
        let index = shapes.findIndex((s) => s.shape_type === "mask" && s.label === label);
        const existing = index >= 0 ? this.store.maskOf(shapes[index]) : null;
        if (this.name === "eraser" && index < 0) return true;
        if (index < 0) index = shapes.length;
        this.drag = {
          kind: "paint",
          last: p.image,
          before: this.store.doc,
          shapeIndex: index,
          mask: existing ? cloneMask(existing) : null,
        };
        this.paint(vp, p.image);
        return true;
      }
      default:
        return false;
    }
  }

  move(vp: Viewport, p: PointerInfo, dragging: boolean): void {
    this.cursorImage = p.image;
    const id = this.imageId(vp);
    const d = this.drag;
    if (dragging && d && id !== null) {
      if (d.kind === "vertex") {
        const s = this.store.shapesOf(id)[d.shape];
        if (s) {
          const points = s.points.slice();
          points[d.index] = this.clamp(vp, p.image);
          this.store.updateShape(id, d.shape, { ...s, points }, false);
        }
      } else if (d.kind === "move") {
        let dx = p.image[0] - d.from[0];
        let dy = p.image[1] - d.from[1];
        // Keep the whole shape inside the image.
        const xs = d.orig.points.map((q) => q[0]);
        const ys = d.orig.points.map((q) => q[1]);
        dx = Math.min(vp.series.columns - Math.max(...xs), Math.max(-Math.min(...xs), dx));
        dy = Math.min(vp.series.rows - Math.max(...ys), Math.max(-Math.min(...ys), dy));
        this.store.updateShape(id, d.shape, { ...d.orig, points: translatePoints(d.orig.points, dx, dy) }, false);
        if (d.orig.shape_type === "mask") this.moveMask(d.orig, dx, dy, id, d.shape);
      } else if (d.kind === "paint") {
        this.paint(vp, p.image);
      }
    } else if (this.name === "edit" || this.name === "keypoint") {
      this.hover = this.hitAt(vp, p);
    }
    this.redraw();
  }

  up(vp: Viewport, p: PointerInfo): void {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.kind === "vertex" || d.kind === "move" || d.kind === "paint") {
      if (d.kind === "paint") this.finishPaint(vp, d);
      this.store.commitFrom(d.before);
    } else if (d.kind === "two") {
      const end = this.clamp(vp, p.image);
      const a = vp.toScreen(d.start);
      if (Math.hypot(a[0] - p.screen[0], a[1] - p.screen[1]) > 4) this.finishTwo(vp, end);
      // otherwise: wait for the second click
    }
    this.redraw();
  }

  dblclick(vp: Viewport, p: PointerInfo): void {
    if (this.name === "polygon" && this.draft.length >= 3) {
      this.finishPolygon(vp);
      return;
    }
    if (this.name !== "edit") return;
    const id = this.imageId(vp);
    const hit = this.hitAt(vp, p);
    if (id === null || !hit || hit.kind !== "edge") return;
    const s = this.store.shapesOf(id)[hit.shape];
    if (s.shape_type !== "polygon" && s.shape_type !== "linestrip") return;
    this.store.updateShape(id, hit.shape, {
      ...s,
      points: insertVertex(s.points, hit.index, this.clamp(vp, vp.toImage(hit.at ?? p.screen))),
    });
  }

  cursor(): string {
    if (this.name === "navigate") return "default";
    if (this.name === "edit") {
      if (!this.hover) return "default";
      return this.hover.kind === "vertex" ? "pointer" : "move";
    }
    if (this.name === "brush" || this.name === "eraser") return "none";
    return "crosshair";
  }

  // ----- helpers -----

  finishPolygon(vp: Viewport): void {
    // A double-click adds the same point twice: drop consecutive duplicates.
    const pts = this.draft.filter((q, k, a) => k === 0 || q[0] !== a[k - 1][0] || q[1] !== a[k - 1][1]);
    this.draft = [];
    this.draftView = null;
    if (pts.length < 3) {
      toast("A polygon needs at least 3 points", "warn");
      return;
    }
    this.create(vp, "polygon", pts);
  }

  private finishTwo(vp: Viewport, end: Point): void {
    const start = this.draft[0];
    this.draft = [];
    this.draftView = null;
    if (!start || (start[0] === end[0] && start[1] === end[1])) return;
    this.create(vp, this.name === "line" ? "line" : "rectangle", [start, end]);
  }

  removeVertex(imageId: number, shapeIndex: number, vertex: number): void {
    const s = this.store.shapesOf(imageId)[shapeIndex];
    if (!s) return;
    const min = MIN_POINTS[s.shape_type];
    if (min === undefined) {
      toast(`A ${s.shape_type} has a fixed number of points`, "warn");
      return;
    }
    const pts = deleteVertex(s.points, vertex, min);
    if (!pts) {
      toast(`A ${s.shape_type} needs at least ${min} points`, "warn");
      return;
    }
    this.store.updateShape(imageId, shapeIndex, { ...s, points: pts });
  }

  /** Backspace while drawing a polygon removes its last point. */
  popDraftPoint(): boolean {
    if (this.draft.length === 0) return false;
    this.draft.pop();
    if (this.draft.length === 0) this.draftView = null;
    this.redraw();
    return true;
  }

  private brushRadius(vp: Viewport): [number, number] {
    const [sr, sc] = vp.series.pixel_spacing;
    return [Math.max(0.5, this.brushMm / (sc || 1)), Math.max(0.5, this.brushMm / (sr || 1))];
  }

  private paint(vp: Viewport, to: Point): void {
    const d = this.drag;
    const id = this.imageId(vp);
    if (!d || d.kind !== "paint" || id === null) return;
    const [rx, ry] = this.brushRadius(vp);
    const value = this.name === "eraser" ? 0 : 1;
    const before = d.mask;
    d.mask = paintStroke(d.mask, d.last, to, rx, ry, value, vp.series.columns, vp.series.rows);
    d.last = to;
    if (d.mask) forgetMaskCanvas(d.mask);
    if (!d.mask) return;
    // Show progress with a lightweight shape whose decoded mask is the one being painted.
    const label = this.store.activeLabel as string;
    const shapes = this.store.shapesOf(id);
    const base = shapes[d.shapeIndex] ?? normaliseShape({ label, points: [], shape_type: "mask" });
    const preview: Shape = {
      ...base,
      points: [
        [d.mask.x0, d.mask.y0],
        [d.mask.x0 + d.mask.width - 1, d.mask.y0 + d.mask.height - 1],
      ],
      mask: base.mask ?? "",
    };
    this.store.rememberMask(preview, d.mask);
    const list = shapes.slice();
    list[d.shapeIndex] = preview;
    this.store.setShapes(id, list, false);
    void before;
  }

  private finishPaint(vp: Viewport, d: Extract<Drag, { kind: "paint" }>): void {
    const id = this.imageId(vp);
    if (id === null) return;
    const shapes = this.store.shapesOf(id).slice();
    const cropped = d.mask ? cropMask(d.mask) : null;
    if (!cropped) {
      if (shapes[d.shapeIndex]) {
        shapes.splice(d.shapeIndex, 1);
        this.store.setShapes(id, shapes, false);
      }
      return;
    }
    const base = shapes[d.shapeIndex];
    const shape: Shape = { ...base, ...maskToShapeFields(cropped) };
    this.store.rememberMask(shape, cropped);
    shapes[d.shapeIndex] = shape;
    this.store.setShapes(id, shapes, false);
  }

  private moveMask(orig: Shape, dx: number, dy: number, imageId: number, index: number): void {
    const m = this.store.maskOf(orig);
    if (!m) return;
    const rx = Math.round(dx);
    const ry = Math.round(dy);
    const moved: PlacedMask = { ...m, x0: m.x0 + rx, y0: m.y0 + ry };
    const s = this.store.shapesOf(imageId)[index];
    const shape: Shape = { ...s, points: translatePoints(orig.points, rx, ry) };
    this.store.rememberMask(shape, moved);
    this.store.updateShape(imageId, index, shape, false);
  }
}
