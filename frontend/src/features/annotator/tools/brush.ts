/** Brush: paints the active label's mask. */

import { PaintTool } from "./paint";

export class BrushTool extends PaintTool {
  readonly name = "brush";
  protected readonly value = 1;
}
