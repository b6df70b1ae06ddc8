/** Navigate: the tool takes no input, so a left-drag is the viewport's window/level. */

import type { AnnotatorTool } from "./kit";

export class NavigateTool implements AnnotatorTool {
  readonly name = "navigate";
  readonly creates = null;

  down(): boolean {
    return false;
  }

  move(): void {}

  up(): void {}

  cursor(): string {
    return "default";
  }
}
