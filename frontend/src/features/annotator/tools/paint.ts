/** Brush and eraser: paint the active label's mask on the slice with a round stroke of a size in mm. */

import type { Point, Shape } from "../../../contract/types";
import { normaliseShape } from "../../../core/labelme";
import type { PlacedMask } from "../../../core/mask";
import { cloneMask, cropMask, maskToShapeFields, paintStroke } from "../../../core/mask";
import type { PointerInfo, Viewport } from "../../viewer";
import { forgetMaskCanvas } from "../render";
import type { AnnotDoc } from "../store";
import type { AnnotatorTool, ToolKit, ToolName } from "./kit";

interface Stroke {
  imageId: number;
  last: Point;
  before: AnnotDoc;
  /** Index of the label's mask shape in the slice's list (the list's length for a new one). */
  shapeIndex: number;
  mask: PlacedMask | null;
}

export abstract class PaintTool implements AnnotatorTool {
  abstract readonly name: ToolName;
  readonly creates = "mask";
  /** 1 paints, 0 erases. */
  protected abstract readonly value: 0 | 1;
  private stroke: Stroke | null = null;

  constructor(private readonly kit: ToolKit) {}

  down(vp: Viewport, p: PointerInfo): boolean {
    const kit = this.kit;
    const id = vp.currentImageId;
    if (id === null) return false;
    const label = kit.ensureLabelFor("mask");
    if (!label) return true;
    const shapes = kit.store.shapesOf(id);
    let index = shapes.findIndex((s) => s.shape_type === "mask" && s.label === label);
    const existing = index >= 0 ? kit.store.maskOf(shapes[index]) : null;
    if (this.value === 0 && index < 0) return true; // nothing to erase
    if (index < 0) index = shapes.length;
    const mask = existing ? cloneMask(existing) : null;
    this.stroke = { imageId: id, last: p.image, before: kit.store.doc, shapeIndex: index, mask };
    this.paint(vp, p.image);
    return true;
  }

  move(vp: Viewport, p: PointerInfo, dragging: boolean): void {
    if (dragging) this.paint(vp, p.image);
  }

  up(): void {
    const s = this.stroke;
    this.stroke = null;
    if (!s) return;
    this.finish(s);
    this.kit.store.commitFrom(s.before);
  }

  cancel(): void {
    this.stroke = null;
  }

  cursor(): string {
    return "none"; // the overlay draws the brush outline
  }

  /** Brush radii in image pixels along x and y (pixels need not be square). */
  private radius(vp: Viewport): [number, number] {
    const [sr, sc] = vp.series.pixel_spacing;
    const mm = this.kit.brushMm;
    return [Math.max(0.5, mm / (sc || 1)), Math.max(0.5, mm / (sr || 1))];
  }

  private paint(vp: Viewport, to: Point): void {
    const s = this.stroke;
    if (!s) return;
    const [rx, ry] = this.radius(vp);
    s.mask = paintStroke(s.mask, s.last, to, rx, ry, this.value, vp.series.columns, vp.series.rows);
    s.last = to;
    if (!s.mask) return;
    forgetMaskCanvas(s.mask);
    // Show progress with a lightweight shape whose decoded mask is the one being painted.
    const store = this.kit.store;
    const label = store.activeLabel ?? "";
    const shapes = store.shapesOf(s.imageId);
    const base = shapes[s.shapeIndex] ?? normaliseShape({ label, points: [], shape_type: "mask" });
    const m = s.mask;
    const corners: Point[] = [
      [m.x0, m.y0],
      [m.x0 + m.width - 1, m.y0 + m.height - 1],
    ];
    const preview: Shape = { ...base, points: corners, mask: base.mask ?? "" };
    store.rememberMask(preview, m);
    const list = shapes.slice();
    list[s.shapeIndex] = preview;
    store.setShapes(s.imageId, list, false);
  }

  /** Encode the stroke's mask into the shape (cropped to its pixels), or drop the shape when it is empty. */
  private finish(s: Stroke): void {
    const store = this.kit.store;
    const shapes = store.shapesOf(s.imageId).slice();
    const cropped = s.mask ? cropMask(s.mask) : null;
    if (!cropped) {
      if (shapes[s.shapeIndex]) {
        shapes.splice(s.shapeIndex, 1);
        store.setShapes(s.imageId, shapes, false);
      }
      return;
    }
    const shape: Shape = { ...shapes[s.shapeIndex], ...maskToShapeFields(cropped) };
    store.rememberMask(shape, cropped);
    shapes[s.shapeIndex] = shape;
    store.setShapes(s.imageId, shapes, false);
  }
}
