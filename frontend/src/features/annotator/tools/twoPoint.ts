/** Shapes given by two points (rectangle, line): drag from one to the other, or click twice. */

import type { Point, ShapeType } from "../../../contract/types";
import type { PointerInfo, Viewport } from "../../viewer";
import type { AnnotatorTool, ToolKit, ToolName } from "./kit";

/** A press and release closer than this (screen pixels) is a click: the second click ends the shape. */
const CLICK_PX = 4;

export abstract class TwoPointTool implements AnnotatorTool {
  abstract readonly name: ToolName;
  abstract readonly creates: ShapeType;
  private start: Point | null = null;

  constructor(protected readonly kit: ToolKit) {}

  down(vp: Viewport, p: PointerInfo): boolean {
    const kit = this.kit;
    const img = kit.clamp(vp, p.image);
    if (kit.draftView === vp && kit.draft.length === 1) {
      this.finish(vp, img); // the second click of click-click drawing
      return true;
    }
    kit.draftView = vp;
    kit.draft = [img];
    this.start = img;
    return true;
  }

  move(): void {}

  up(vp: Viewport, p: PointerInfo): void {
    const start = this.start;
    this.start = null;
    if (!start) return;
    const a = vp.toScreen(start);
    if (Math.hypot(a[0] - p.screen[0], a[1] - p.screen[1]) > CLICK_PX) this.finish(vp, this.kit.clamp(vp, p.image));
    // otherwise: wait for the second click
  }

  cancel(): void {
    this.start = null;
  }

  cursor(): string {
    return "crosshair";
  }

  private finish(vp: Viewport, end: Point): void {
    const start = this.kit.draft[0];
    this.kit.clearDraft();
    if (!start || (start[0] === end[0] && start[1] === end[1])) return;
    this.make(vp, start, end);
  }

  /** The finished shape (the line tool may make a ruler instead). */
  protected make(vp: Viewport, start: Point, end: Point): void {
    this.kit.create(vp, this.creates, [start, end]);
  }
}
