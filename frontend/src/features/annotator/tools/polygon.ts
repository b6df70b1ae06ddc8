/** Polygon: click the points; the first point again, Enter or a double-click closes it. */

import type { Point } from "../../../contract/types";
import { toast } from "../../ui";
import type { PointerInfo, Viewport } from "../../viewer";
import type { AnnotatorTool, ToolKit } from "./kit";

/** Screen pixels within which a click on the first point closes the polygon. */
const CLOSE_PX = 8;

export class PolygonTool implements AnnotatorTool {
  readonly name = "polygon";
  readonly creates = "polygon";

  constructor(private readonly kit: ToolKit) {}

  down(vp: Viewport, p: PointerInfo): boolean {
    const kit = this.kit;
    if (kit.draftView && kit.draftView !== vp) kit.clearDraft();
    kit.draftView = vp;
    const first = kit.draft[0];
    if (first && kit.draft.length >= 3) {
      const a = vp.toScreen(first);
      if (Math.hypot(a[0] - p.screen[0], a[1] - p.screen[1]) < CLOSE_PX) {
        this.finish(vp);
        return true;
      }
    }
    kit.draft.push(kit.clamp(vp, p.image));
    return true;
  }

  move(): void {}

  up(): void {}

  dblclick(vp: Viewport): void {
    if (this.kit.draft.length >= 3) this.finish(vp);
  }

  cursor(): string {
    return "crosshair";
  }

  /** Close the polygon drawn so far (Enter); false when it has fewer than 3 points. */
  finishDraft(): boolean {
    const vp = this.kit.draftView;
    if (!vp || this.kit.draft.length < 3) return false;
    this.finish(vp);
    return true;
  }

  private finish(vp: Viewport): void {
    // A double-click adds the same point twice: drop consecutive duplicates.
    const pts = this.kit.draft.filter((q, k, a) => k === 0 || !samePoint(q, a[k - 1]));
    this.kit.clearDraft();
    if (pts.length < 3) {
      toast("A polygon needs at least 3 points", "warn");
      return;
    }
    this.kit.create(vp, "polygon", pts);
  }
}

function samePoint(a: Point, b: Point): boolean {
  return a[0] === b[0] && a[1] === b[1];
}
