/** Eraser: erases from the active label's mask (an emptied mask is removed). */

import { PaintTool } from "./paint";

export class EraserTool extends PaintTool {
  readonly name = "eraser";
  protected readonly value = 0;
}
