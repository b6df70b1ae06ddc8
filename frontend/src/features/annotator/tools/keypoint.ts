/** Keypoints (the vertebral corners): each click places the next named point of the view's set, in order. */

import { nextKeypoint } from "../../../core/keypoints";
import { toast } from "../../ui";
import type { PointerInfo, Viewport } from "../../viewer";
import type { AnnotatorTool, ToolKit } from "./kit";
import { VertexDrag } from "./kit";

export class KeypointTool implements AnnotatorTool {
  readonly name = "keypoint";
  readonly creates = null;
  private drag: VertexDrag | null = null;

  constructor(private readonly kit: ToolKit) {}

  down(vp: Viewport, p: PointerInfo): boolean {
    const kit = this.kit;
    const id = vp.currentImageId;
    const set = kit.keypointSet(vp);
    if (id === null) return false;
    if (!set) {
      toast("No keypoint set is defined for this view", "warn");
      return true;
    }
    const hit = kit.hitAt(vp, p);
    const shapes = kit.store.shapesOf(id);
    if (hit && hit.kind === "vertex" && set.points.includes(shapes[hit.shape].label)) {
      // A placed point is moved, not placed again.
      kit.store.select({ imageId: id, index: hit.shape });
      this.drag = VertexDrag.start(kit, id, hit.shape, 0);
      return true;
    }
    const next = nextKeypoint(set, shapes);
    if (!next) {
      toast("All keypoints of the set are placed; drag one to move it", "info");
      return true;
    }
    kit.create(vp, "point", [p.image], next);
    return true;
  }

  move(vp: Viewport, p: PointerInfo, dragging: boolean): void {
    if (dragging && this.drag) this.drag.move(vp, p);
    else this.kit.hover = this.kit.hitAt(vp, p);
  }

  up(): void {
    this.drag?.end();
    this.drag = null;
  }

  cancel(): void {
    this.drag = null;
  }

  cursor(): string {
    return "crosshair";
  }
}
