/** Edit (labelme's edit mode): select, move a shape (masks too), drag, insert or delete vertices. */

import type { Point, Shape } from "../../../contract/types";
import { insertVertex, translatePoints } from "../../../core/geometry";
import type { PlacedMask } from "../../../core/mask";
import type { PointerInfo, Viewport } from "../../viewer";
import type { AnnotDoc } from "../store";
import type { AnnotatorTool, ToolKit } from "./kit";
import { VertexDrag } from "./kit";

interface MoveDrag {
  imageId: number;
  shape: number;
  from: Point;
  orig: Shape;
  before: AnnotDoc;
}

export class EditTool implements AnnotatorTool {
  readonly name = "edit";
  readonly creates = null;
  private drag: VertexDrag | MoveDrag | null = null;

  constructor(private readonly kit: ToolKit) {}

  down(vp: Viewport, p: PointerInfo): boolean {
    const id = vp.currentImageId;
    const store = this.kit.store;
    const hit = this.kit.hitAt(vp, p);
    if (id === null || !hit) {
      store.select(null);
      return false;
    }
    store.select({ imageId: id, index: hit.shape });
    if (hit.kind !== "vertex") {
      const orig = store.shapesOf(id)[hit.shape];
      this.drag = { imageId: id, shape: hit.shape, from: p.image, orig, before: store.doc };
    } else if (p.event.altKey) {
      this.kit.removeVertex(id, hit.shape, hit.index);
    } else {
      this.drag = VertexDrag.start(this.kit, id, hit.shape, hit.index);
    }
    return true;
  }

  move(vp: Viewport, p: PointerInfo, dragging: boolean): void {
    const d = this.drag;
    if (!dragging || !d) {
      this.kit.hover = this.kit.hitAt(vp, p);
      return;
    }
    if (d instanceof VertexDrag) d.move(vp, p);
    else this.moveShape(vp, p, d);
  }

  up(): void {
    const d = this.drag;
    this.drag = null;
    if (d instanceof VertexDrag) d.end();
    else if (d) this.kit.store.commitFrom(d.before);
  }

  cancel(): void {
    this.drag = null;
  }

  /** Double-click on a polygon's or linestrip's edge inserts a vertex there. */
  dblclick(vp: Viewport, p: PointerInfo): void {
    const id = vp.currentImageId;
    const hit = this.kit.hitAt(vp, p);
    if (id === null || !hit || hit.kind !== "edge") return;
    const s = this.kit.store.shapesOf(id)[hit.shape];
    if (s.shape_type !== "polygon" && s.shape_type !== "linestrip") return;
    const at = this.kit.clamp(vp, vp.toImage(hit.at ?? p.screen));
    this.kit.store.updateShape(id, hit.shape, { ...s, points: insertVertex(s.points, hit.index, at) });
  }

  cursor(): string {
    const hover = this.kit.hover;
    if (!hover) return "default";
    return hover.kind === "vertex" ? "pointer" : "move";
  }

  private moveShape(vp: Viewport, p: PointerInfo, d: MoveDrag): void {
    // Keep the whole shape inside the image.
    const xs = d.orig.points.map((q) => q[0]);
    const ys = d.orig.points.map((q) => q[1]);
    const dx = Math.min(vp.series.columns - Math.max(...xs), Math.max(-Math.min(...xs), p.image[0] - d.from[0]));
    const dy = Math.min(vp.series.rows - Math.max(...ys), Math.max(-Math.min(...ys), p.image[1] - d.from[1]));
    const store = this.kit.store;
    store.updateShape(d.imageId, d.shape, { ...d.orig, points: translatePoints(d.orig.points, dx, dy) }, false);
    if (d.orig.shape_type === "mask") this.moveMask(d, dx, dy);
  }

  /** A mask moves by whole pixels: its bitmap is shifted, not re-encoded. */
  private moveMask(d: MoveDrag, dx: number, dy: number): void {
    const store = this.kit.store;
    const m = store.maskOf(d.orig);
    if (!m) return;
    const rx = Math.round(dx);
    const ry = Math.round(dy);
    const moved: PlacedMask = { ...m, x0: m.x0 + rx, y0: m.y0 + ry };
    const s = store.shapesOf(d.imageId)[d.shape];
    const shape: Shape = { ...s, points: translatePoints(d.orig.points, rx, ry) };
    store.rememberMask(shape, moved);
    store.updateShape(d.imageId, d.shape, shape, false);
  }
}
