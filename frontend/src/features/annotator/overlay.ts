/** What the annotator draws over each viewport's image: shapes, measurement chords, the draft and the tool cursor. */

import type { Shape, Template } from "../../contract/types";
import type { Hit } from "../../core/geometry";
import { nextKeypoint } from "../../core/keypoints";
import type { MeasurePanel } from "../measure";
import type { Viewport, ViewerLayout } from "../viewer";
import {
  drawChords,
  drawDraft,
  drawKeypointCursor,
  drawLevelRuler,
  drawRulers,
  drawShapes,
  labelColour,
} from "./render";
import type { SidePanel } from "./sidePanel";
import type { AnnotationStore } from "./store";
import type { SuggestionLayer } from "./suggestions";
import type { ToolBox } from "./tools";

interface OverlayParts {
  layout: ViewerLayout;
  template: Template;
  store: AnnotationStore;
  tools: ToolBox;
  measure: MeasurePanel;
  panel: SidePanel;
  suggestions: SuggestionLayer;
}

export function installOverlays(parts: OverlayParts): void {
  for (const vp of parts.layout.viewports) {
    vp.drawers.push((ctx, v) => drawOverlay(ctx, v, parts));
  }
}

function drawOverlay(ctx: CanvasRenderingContext2D, v: Viewport, parts: OverlayParts): void {
  const { layout, template, store, tools, measure, panel } = parts;
  const id = v.currentImageId;
  const list = store.shapesOf(id);
  const sel = store.selection && store.selection.imageId === id ? store.selection.index : null;
  const hover = tools.kit.hover;
  drawShapes(ctx, v, list, {
    template,
    opacity: store.opacity,
    selected: sel,
    hoverVertex: hover && hover.kind === "vertex" && v.pointer ? { shape: hover.shape, index: hover.index } : null,
    hoverShape: hover && v.pointer ? hover.shape : null,
    locked: (s) => store.isLocked(s),
    visible: (s) => store.isVisible(s),
    maskOf: (s) => store.maskOf(s),
    warnLabels: panel.warned,
    invalid: v === layout.active() ? panel.invalid : new Set(),
    nextKeypoint: null,
  });
  publishHover(v, hover && v.pointer ? hover : null, list);
  // Withheld pre-labels: ghosts (not shapes) while the user's own read is open.
  parts.suggestions.draw(ctx, v);
  // Hide all (H) hides every overlay; Shift+H hides the measurement chords alone.
  if (!store.allHidden) {
    drawLevelRuler(ctx, v, list);
    if (id !== null && store.chordsShown) drawChords(ctx, v, measure.chords.get(String(id)) ?? []);
    if (id !== null) drawRulers(ctx, v, tools.kit.rulers.get(id) ?? []);
  }
  const colour = labelColour(template, store.activeLabel ?? "");
  const draft = tools.draft();
  if (draft && draft.view === v) drawDraft(ctx, v, draft.tool, draft.points, draft.cursor, colour);
  const p = v.pointer;
  if (!p) return;
  if (tools.name === "keypoint") {
    const set = tools.kit.keypointSet(v);
    drawKeypointCursor(ctx, p.screen, set ? nextKeypoint(set, list) : null);
  } else if (tools.name === "brush" || tools.name === "eraser") {
    // The brush outline: round in mm, so an ellipse where pixels are not square.
    const [kx, ky] = v.scale;
    const [sr, sc] = v.series.pixel_spacing;
    const mm = tools.kit.brushMm;
    ctx.save();
    ctx.strokeStyle = tools.name === "brush" ? colour : "#fff";
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.ellipse(p.screen[0], p.screen[1], (mm / sc) * kx, (mm / sr) * ky, 0, 0, Math.PI * 2);
    ctx.stroke();
    ctx.restore();
  }
}

/** State on the canvas what a press would take (browser tests read it, as they read data-view). */
function publishHover(v: Viewport, hover: Hit | null, list: readonly Shape[]): void {
  const text = hover
    ? JSON.stringify({
        shape: hover.shape,
        label: list[hover.shape]?.label ?? "",
        kind: hover.kind,
        index: hover.index,
      })
    : "";
  if ((v.canvas.dataset.hover ?? "") !== text) {
    if (text) v.canvas.dataset.hover = text;
    else delete v.canvas.dataset.hover;
  }
}
