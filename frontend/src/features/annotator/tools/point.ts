/** Point: one click places a point of the active label. */

import type { PointerInfo, Viewport } from "../../viewer";
import type { AnnotatorTool, ToolKit } from "./kit";

export class PointTool implements AnnotatorTool {
  readonly name = "point";
  readonly creates = "point";

  constructor(private readonly kit: ToolKit) {}

  down(vp: Viewport, p: PointerInfo): boolean {
    this.kit.create(vp, "point", [p.image]);
    return true;
  }

  move(): void {}

  up(): void {}

  cursor(): string {
    return "crosshair";
  }
}
