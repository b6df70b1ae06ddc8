/** The annotator's tools (one module each) behind one viewport tool that forwards input to the active one. */

import type { Point, Template } from "../../../contract/types";
import { lengthMm } from "../../../core/geometry";
import { toast } from "../../ui";
import type { PointerInfo, Viewport, ViewportTool } from "../../viewer";
import type { AnnotationStore } from "../store";
import { BrushTool } from "./brush";
import { EditTool } from "./edit";
import { EraserTool } from "./eraser";
import type { AnnotatorTool, ToolName } from "./kit";
import { ToolKit } from "./kit";
import { KeypointTool } from "./keypoint";
import { LineTool } from "./line";
import { NavigateTool } from "./navigate";
import { PointTool } from "./point";
import { PolygonTool } from "./polygon";
import { RectangleTool } from "./rectangle";

export type { AnnotatorTool, ToolName } from "./kit";

/** The shape being drawn, as the overlay and the status bar show it. */
export interface DraftView {
  tool: ToolName;
  points: Point[];
  cursor: Point | null;
  view: Viewport;
  /** A line's length so far, in mm. */
  lengthMm: number | null;
}

export class ToolBox implements ViewportTool {
  readonly kit: ToolKit;
  private readonly polygon: PolygonTool;
  private readonly tools: Record<ToolName, AnnotatorTool>;
  private active: AnnotatorTool;
  onToolChange: (name: ToolName) => void = () => {};

  constructor(store: AnnotationStore, template: Template, redraw: () => void) {
    const kit = new ToolKit(store, template, redraw);
    this.kit = kit;
    this.polygon = new PolygonTool(kit);
    this.tools = {
      navigate: new NavigateTool(),
      edit: new EditTool(kit),
      polygon: this.polygon,
      rectangle: new RectangleTool(kit),
      line: new LineTool(kit),
      point: new PointTool(kit),
      keypoint: new KeypointTool(kit),
      brush: new BrushTool(kit),
      eraser: new EraserTool(kit),
    };
    this.active = this.tools.navigate;
  }

  get name(): ToolName {
    return this.active.name;
  }

  setTool(name: ToolName): void {
    if (!this.kit.store.editable && name !== "navigate") {
      toast("This read is view only (to edit your own: Start my read)", "warn");
      name = "navigate";
    }
    this.cancelDraft();
    this.active = this.tools[name];
    if (this.active.creates && this.active.picksLabel !== false) this.kit.ensureLabelFor(this.active.creates);
    this.onToolChange(name);
    this.kit.redraw();
  }

  /** Drop the shape being drawn and any drag in progress. */
  cancelDraft(): void {
    this.kit.clearDraft();
    this.active.cancel?.();
    this.kit.redraw();
  }

  /** Enter: close the polygon being drawn. */
  finishDraft(): boolean {
    if (this.active !== this.polygon || !this.polygon.finishDraft()) return false;
    this.kit.redraw();
    return true;
  }

  /** Backspace while drawing removes the last point. */
  popDraftPoint(): boolean {
    const kit = this.kit;
    if (kit.draft.length === 0) return false;
    kit.draft.pop();
    if (kit.draft.length === 0) kit.draftView = null;
    kit.redraw();
    return true;
  }

  /** The shape being drawn, if any. */
  draft(): DraftView | null {
    const { draft, draftView, cursorImage } = this.kit;
    if (!draftView || draft.length === 0) return null;
    let mm: number | null = null;
    if (this.name === "line" && cursorImage) {
      const [sr, sc] = draftView.series.pixel_spacing;
      mm = lengthMm(draft[0], cursorImage, sr, sc);
    }
    return { tool: this.name, points: draft, cursor: cursorImage, view: draftView, lengthMm: mm };
  }

  // ----- ViewportTool: input goes to the active tool -----

  down(vp: Viewport, p: PointerInfo): boolean {
    if (vp.currentImageId === null || !this.active.down(vp, p)) return false;
    this.kit.redraw();
    return true;
  }

  move(vp: Viewport, p: PointerInfo, dragging: boolean): void {
    this.kit.cursorImage = p.image;
    if (vp.currentImageId !== null) this.active.move(vp, p, dragging);
    this.kit.redraw();
  }

  up(vp: Viewport, p: PointerInfo): void {
    this.active.up(vp, p);
    this.kit.endPick();
    this.kit.redraw();
  }

  dblclick(vp: Viewport, p: PointerInfo): void {
    this.active.dblclick?.(vp, p);
    this.kit.redraw();
  }

  cursor(vp: Viewport, p: PointerInfo | null): string {
    return this.active.cursor(vp, p);
  }
}
