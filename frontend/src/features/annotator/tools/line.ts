/** Line: a caliper between two points (its length in mm is shown while drawing and in the shape list). */

import { TwoPointTool } from "./twoPoint";

export class LineTool extends TwoPointTool {
  readonly name = "line";
  readonly creates = "line";
}
