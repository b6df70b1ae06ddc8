/** Every shown read drawn over each viewport in its legend colour (the annotator's renderer), and the comment pins. */

import type { Template } from "../../contract/types";
import { cachedMaskOf } from "../../core/mask";
import { drawShapes, tintedTemplate } from "../annotator";
import type { PointerInfo, Viewport, ViewportTool } from "../viewer";
import type { Comment, ReviewRead } from "./api";

export interface OverlayState {
  reads: () => readonly ReviewRead[];
  shown: ReadonlySet<number>;
  pins: () => readonly Comment[];
  selectedPin: () => number | null;
}

export function drawReads(ctx: CanvasRenderingContext2D, vp: Viewport, template: Template, state: OverlayState): void {
  const image = vp.currentImageId;
  if (image === null) return;
  for (const read of state.reads()) {
    if (!state.shown.has(read.id)) continue;
    const shapes = read.revision?.shapes[String(image)] ?? [];
    if (shapes.length === 0) continue;
    drawShapes(ctx, vp, shapes, {
      template: tintedTemplate(template, read.colour),
      opacity: read.kind === "gold" ? 0.22 : 0.08,
      selected: null,
      hoverVertex: null,
      visible: () => true,
      maskOf: cachedMaskOf,
      warnLabels: new Set(),
      invalid: new Set(),
      nextKeypoint: null,
    });
  }
  drawPins(ctx, vp, state);
}

/** Comment pins on the viewport's slice, numbered as the thread list numbers them. */
export function drawPins(
  ctx: CanvasRenderingContext2D,
  vp: Viewport,
  state: Pick<OverlayState, "pins" | "selectedPin">,
): void {
  const image = vp.currentImageId;
  const roots = state.pins().filter((c) => c.parent === null);
  roots.forEach((c, i) => {
    if (c.image !== image || c.x === null || c.y === null) return;
    const [x, y] = vp.toScreen([c.x, c.y]);
    const selected = state.selectedPin() === c.id;
    ctx.save();
    ctx.beginPath();
    ctx.arc(x, y, selected ? 10 : 8, 0, Math.PI * 2);
    ctx.fillStyle = c.resolved ? "rgba(140,151,168,.85)" : "#ffffff";
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = selected ? "#3ea6ff" : "#000000";
    ctx.stroke();
    ctx.fillStyle = "#000000";
    ctx.font = "700 10px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(String(i + 1), x, y + 0.5);
    ctx.restore();
  });
}

/** While pinning, a click on the image places a comment there; otherwise drags are window/level and pan. */
export class PinTool implements ViewportTool {
  active = false;
  constructor(private readonly onPin: (vp: Viewport, point: [number, number]) => void) {}

  down(vp: Viewport, p: PointerInfo): boolean {
    if (!this.active) return false;
    const [x, y] = p.image;
    if (x < 0 || y < 0 || x > vp.series.columns || y > vp.series.rows) return true;
    this.onPin(vp, [x, y]);
    return true;
  }
  move(): void {}
  up(): void {}
  cursor(): string {
    return this.active ? "crosshair" : "default";
  }
}
