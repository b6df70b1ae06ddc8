/** Line: a plain ruler (shown with its length, never saved) unless the active label is a caliper
 * label the user picked; then a caliper shape with that label. */

import type { Point } from "../../../contract/types";
import { labelRule } from "../../../core/validation";
import type { Viewport } from "../../viewer";
import { TwoPointTool } from "./twoPoint";

export class LineTool extends TwoPointTool {
  readonly name = "line";
  readonly creates = "line";
  /** Activating the line tool picks no caliper label: a ruler is the default. */
  readonly picksLabel = false;

  protected override make(vp: Viewport, start: Point, end: Point): void {
    const label = this.kit.store.activeLabel;
    if (label && labelRule(this.kit.template, label)?.shapeTypes.includes("line")) {
      this.kit.create(vp, "line", [start, end], label);
      return;
    }
    const id = vp.currentImageId;
    if (id === null) return;
    const list = this.kit.rulers.get(id) ?? [];
    list.push([start, end]);
    this.kit.rulers.set(id, list);
  }
}
