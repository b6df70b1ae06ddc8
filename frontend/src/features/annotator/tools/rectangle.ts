/** Rectangle: two opposite corners. */

import { TwoPointTool } from "./twoPoint";

export class RectangleTool extends TwoPointTool {
  readonly name = "rectangle";
  readonly creates = "rectangle";
}
