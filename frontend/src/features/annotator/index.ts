/** Annotator feature: tools, shapes, keypoints, case fields, autosaved reads and the measurement panel on the viewer. */

import type { CaseInfo, SeriesInfo } from "../../contract/types";
import { exportLabelme, importLabelme, labelmeText } from "../../core/labelme";
import type { LabelmeFile } from "../../core/labelme";
import { nextKeypoint } from "../../core/keypoints";
import { validateImageShapes } from "../../core/validation";
import { chord } from "../keyboard";
import { MeasurePanel } from "../measure";
import { ReadSession } from "../reads";
import { downloadText, el, toast } from "../ui/dom";
import type { ViewerLayout, Viewport } from "../viewer";
import { colourSwatches, renderFields, renderKeypoints, renderLabels, renderShapes, section } from "./panel";
import { drawChords, drawDraft, drawKeypointCursor, drawShapes, labelColour } from "./render";
import { AnnotationStore } from "./store";
import type { ToolName } from "./tools";
import { AnnotatorTool } from "./tools";

export { AnnotationStore } from "./store";
export type { ToolName } from "./tools";

const ICONS: Record<ToolName, string> = {
  navigate: '<path d="M5 3l12 7-5 1.5L9.5 17z"/>',
  edit: '<path d="M4 16l3-1 9-9-2-2-9 9z"/><path d="M12 5l2 2"/>',
  polygon: '<path d="M4 6l6-3 6 4-2 9H6z"/>',
  rectangle: '<rect x="4" y="5" width="12" height="10"/>',
  line: '<path d="M4 16L16 4"/><path d="M3 13l4 4M13 3l4 4"/>',
  point: '<circle cx="10" cy="10" r="3"/>',
  keypoint:
    '<circle cx="6" cy="6" r="2"/><circle cx="14" cy="6" r="2"/><circle cx="6" cy="14" r="2"/><circle cx="14" cy="14" r="2"/>',
  brush: '<path d="M13 3l4 4-7 7-4-4z"/><path d="M6 10c-3 0-3 4-3 6 2 0 6 0 6-3"/>',
  eraser: '<path d="M8 16l-4-4 8-8 6 6-6 6z"/><path d="M8 16h9"/>',
};

const TOOL_TITLES: Record<ToolName, string> = {
  navigate: "Navigate: left-drag window/level (Esc)",
  edit: "Edit: select, move, drag vertices (Ctrl+J)",
  polygon: "Polygon (Ctrl+N)",
  rectangle: "Rectangle (Ctrl+R)",
  line: "Line / caliper in mm (Ctrl+L)",
  point: "Point (Ctrl+P)",
  keypoint: "Keypoints in guided order (Ctrl+K)",
  brush: "Brush mask (Ctrl+B), [ ] size",
  eraser: "Eraser (Ctrl+E)",
};

export interface AnnotatorParts {
  store: AnnotationStore;
  tool: AnnotatorTool;
  session: ReadSession;
  handleKey(e: KeyboardEvent, vp: Viewport): boolean;
}

export function mountAnnotator(args: {
  caseInfo: CaseInfo;
  layout: ViewerLayout;
  toolrail: HTMLElement;
  appbar: HTMLElement;
  side: HTMLElement;
  hint: HTMLElement;
  username: string;
  role: string;
}): AnnotatorParts {
  const { caseInfo, layout, toolrail, appbar, side, hint } = args;
  const template = caseInfo.project.template ?? { labels: [] };
  template.labels ??= [];
  const store = new AnnotationStore();
  store.activeLabel = template.labels[0]?.name ?? null;
  const redraw = () => {
    for (const vp of layout.viewports) vp.invalidate(false);
  };
  const tool = new AnnotatorTool(store, template, redraw);
  const session = new ReadSession(caseInfo.id, store, args.role);
  session.username = args.username;
  const measure = new MeasurePanel(caseInfo.id, caseInfo.series);
  measure.onChords = redraw;

  // Tool rail.
  const buttons = new Map<ToolName, HTMLButtonElement>();
  const order: (ToolName | null)[] = [
    "navigate",
    "edit",
    null,
    "polygon",
    "rectangle",
    "line",
    "point",
    "keypoint",
    null,
    "brush",
    "eraser",
  ];
  for (const name of order) {
    if (!name) {
      toolrail.append(el("div", { class: "gap" }));
      continue;
    }
    const b = el("button", { "data-testid": `tool-${name}`, title: TOOL_TITLES[name], "aria-label": name });
    b.innerHTML = `<svg viewBox="0 0 20 20">${ICONS[name]}</svg>`;
    b.addEventListener("click", () => tool.setTool(name));
    buttons.set(name, b);
    toolrail.append(b);
  }
  const undoB = el("button", { "data-testid": "undo", title: "Undo (Ctrl+Z)" }, "↶");
  const redoB = el("button", { "data-testid": "redo", title: "Redo (Ctrl+Y)" }, "↷");
  undoB.addEventListener("click", () => store.undo());
  redoB.addEventListener("click", () => store.redo());
  toolrail.append(el("div", { class: "gap" }), undoB, redoB);
  const toolHints: Record<ToolName, string> = {
    navigate: "Left-drag: window/level · wheel: slices · middle-drag: pan · Ctrl+wheel: zoom",
    edit: "Click to select · drag to move · drag a handle · double-click an edge to add a vertex · Alt+click a vertex to delete it",
    polygon:
      "Click to add points · click the first point, Enter or double-click to close · Backspace removes the last point · Esc cancels",
    rectangle: "Drag (or click twice) for opposite corners",
    line: "Drag (or click twice): caliper, length shown in mm",
    point: "Click to place a point",
    keypoint: "Click to place the named next point · drag a placed point to move it",
    brush: "Drag to paint the active label's mask · [ and ] change the size",
    eraser: "Drag to erase from the active label's mask",
  };
  tool.onToolChange = (name) => {
    for (const [n, b] of buttons) b.classList.toggle("on", n === name);
    hint.textContent = toolHints[name];
    document.body.dataset.tool = name;
  };
  tool.onToolChange("navigate");
  for (const vp of layout.viewports) vp.tool = tool;

  // App bar: read selector, save state, live, labelme.
  const exportB = el(
    "button",
    { "data-testid": "labelme-export", title: "Download labelme JSON of the active slice" },
    "↓ labelme",
  );
  const importInput = el("input", {
    type: "file",
    accept: ".json,application/json",
    style: "display:none",
    "data-testid": "labelme-file",
  });
  const importB = el(
    "button",
    { "data-testid": "labelme-import", title: "Load labelme JSON into the active slice" },
    "↑ labelme",
  );
  const saveB = el("button", { "data-testid": "save-now", title: "Save now (Ctrl+S)" }, "Save");
  importB.addEventListener("click", () => importInput.click());
  saveB.addEventListener("click", () => session.saveNow());
  appbar.insertBefore(el("span", { class: "sep" }), appbar.lastElementChild);
  for (const n of [
    session.readSelect,
    session.statusPill,
    saveB,
    el("span", { class: "sep" }),
    importB,
    exportB,
    importInput,
    session.livePill,
  ]) {
    appbar.insertBefore(n, appbar.lastElementChild);
  }
  const labelmeBases = new Map<number, LabelmeFile>();
  exportB.addEventListener("click", () => {
    const vp = layout.active();
    const id = vp.currentImageId;
    if (id === null) return;
    const file = exportLabelme({
      shapes: store.shapesOf(id),
      base: labelmeBases.get(id) ?? null,
      imagePath: `${caseInfo.pseudonym}_${vp.series.number ?? vp.series.id}_${String(vp.index).padStart(4, "0")}.png`,
      imageHeight: vp.series.rows,
      imageWidth: vp.series.columns,
    });
    downloadText(`${caseInfo.pseudonym}_image${id}.json`, labelmeText(file));
  });
  const importFile = async () => {
    const f = importInput.files?.[0];
    importInput.value = "";
    if (!f) return;
    const vp = layout.active();
    const id = vp.currentImageId;
    if (id === null || !store.editable) return;
    try {
      const file = importLabelme(await f.text());
      if (
        file.imageWidth &&
        file.imageHeight &&
        (file.imageWidth !== vp.series.columns || file.imageHeight !== vp.series.rows)
      ) {
        toast(
          `This file is for a ${file.imageWidth}×${file.imageHeight} image; the slice is ${vp.series.columns}×${vp.series.rows}`,
          "error",
        );
        return;
      }
      labelmeBases.set(id, file);
      store.setShapes(id, file.shapes);
      toast(`Imported ${file.shapes.length} shapes into slice ${vp.index + 1}`);
    } catch (e) {
      toast(e instanceof Error ? e.message : String(e), "error", 6000);
    }
  };
  importInput.addEventListener("change", () => void importFile());

  // Side panel.
  const labels = section("Labels", "labels-section");
  const shapes = section("Shapes on slice", "shapes-section");
  const keypoints = section("Keypoints", "keypoints-section");
  const fields = section("Case", "fields-section");
  const meas = section("Measurements", "measure-section", measure.reference, measure.body);
  const revs = section("Revisions", "revisions-section", session.revisionBody);
  side.append(labels.root, keypoints.root, shapes.root, fields.root, meas.root, revs.root);

  let warned = new Set<string>();
  let invalid = new Set<number>();
  const refresh = () => {
    const vp = layout.active();
    const id = vp.currentImageId;
    renderLabels(labels.body, store, template, vp, redraw);
    const issues =
      id === null
        ? []
        : validateImageShapes(store.shapesOf(id), template, { rows: vp.series.rows, columns: vp.series.columns });
    const serverErrors = new Map<number, string>();
    for (const e of session.serverErrors)
      if (String(e.image) === String(id) && e.index !== null) serverErrors.set(e.index, e.message);
    invalid = new Set([...issues.map((x) => x.index), ...serverErrors.keys()]);
    shapes.count.textContent = String(renderShapes(shapes.body, store, vp, issues, serverErrors));
    colourSwatches(shapes.body, template);
    warned = renderKeypoints(keypoints.body, store, template, vp);
    renderFields(fields.body, store, template);
    undoB.disabled = !store.canUndo;
    redoB.disabled = !store.canRedo;
    redraw();
  };
  const allShapes = () => store.doc.shapes;
  store.onChange((kind) => {
    if (kind === "edit" || kind === "undo") {
      session.edited();
      measure.schedule(allShapes());
    }
    if (kind === "load") measure.schedule(allShapes(), 0);
    refresh();
  });
  session.onLoaded = refresh;
  session.onErrors = refresh;
  layout.onActiveChange(refresh);
  for (const vp of layout.viewports) {
    vp.sliceListeners.push(() => {
      if (tool.draftView === vp) tool.cancelDraft();
      if (vp === layout.active()) refresh();
    });
    vp.drawers.push((ctx, v) => {
      const id = v.currentImageId;
      const list = store.shapesOf(id);
      const sel = store.selection && store.selection.imageId === id ? store.selection.index : null;
      const hover =
        tool.hover && tool.hover.kind === "vertex" && v.pointer
          ? { shape: tool.hover.shape, index: tool.hover.index }
          : null;
      drawShapes(ctx, v, list, {
        template,
        opacity: store.opacity,
        selected: sel,
        hoverVertex: hover,
        visible: (s) => store.isVisible(s),
        maskOf: (s) => store.maskOf(s),
        warnLabels: warned,
        invalid: v === layout.active() ? invalid : new Set(),
        nextKeypoint: null,
      });
      if (id !== null) drawChords(ctx, v, measure.chords.get(String(id)) ?? []);
      if (tool.draftView === v)
        drawDraft(ctx, v, tool.name, tool.draft, tool.cursorImage, labelColour(template, store.activeLabel ?? ""));
      const p = v.pointer;
      if (p && tool.name === "keypoint") {
        const set = tool.keypointSet(v);
        drawKeypointCursor(ctx, p.screen, set ? nextKeypoint(set, list) : null);
      }
      if (p && (tool.name === "brush" || tool.name === "eraser")) {
        const [kx, ky] = v.scale;
        const [sr, sc] = v.series.pixel_spacing;
        ctx.save();
        ctx.strokeStyle = tool.name === "brush" ? labelColour(template, store.activeLabel ?? "") : "#fff";
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.ellipse(p.screen[0], p.screen[1], (tool.brushMm / sc) * kx, (tool.brushMm / sr) * ky, 0, 0, Math.PI * 2);
        ctx.stroke();
        ctx.restore();
      }
    });
  }

  const toolKeys: Record<string, ToolName> = {
    "ctrl+n": "polygon",
    "ctrl+r": "rectangle",
    "ctrl+j": "edit",
    "ctrl+l": "line",
    "ctrl+p": "point",
    "ctrl+k": "keypoint",
    "ctrl+b": "brush",
    "ctrl+e": "eraser",
  };
  const hotkeys = new Map(template.labels.filter((l) => l.hotkey).map((l) => [String(l.hotkey).toLowerCase(), l.name]));

  function handleKey(e: KeyboardEvent, vp: Viewport): boolean {
    const c = chord(e);
    const t = toolKeys[c];
    if (t) {
      tool.setTool(t);
      return true;
    }
    const id = vp.currentImageId;
    const sel = store.selection && store.selection.imageId === id ? store.selection.index : null;
    switch (c) {
      case "ctrl+z":
        store.undo();
        return true;
      case "ctrl+y":
      case "ctrl+shift+z":
        store.redo();
        return true;
      case "ctrl+s":
        session.saveNow();
        return true;
      case "ctrl+d":
        if (sel !== null && id !== null && store.editable) store.duplicate(id, sel, 4);
        return true;
      case "escape":
        if (tool.draft.length) tool.cancelDraft();
        else if (store.selection) store.select(null);
        else tool.setTool("navigate");
        return true;
      case "enter":
        if (tool.name === "polygon" && tool.draft.length >= 3 && tool.draftView) {
          tool.finishPolygon(tool.draftView);
          return true;
        }
        return false;
      case "backspace":
        if (tool.popDraftPoint()) return true;
        if (sel !== null && id !== null && tool.hover?.kind === "vertex" && tool.hover.shape === sel) {
          tool.removeVertex(id, sel, tool.hover.index);
          return true;
        }
        return false;
      case "delete":
        if (sel !== null && id !== null && store.editable) {
          if (tool.hover?.kind === "vertex" && tool.hover.shape === sel && e.shiftKey)
            tool.removeVertex(id, sel, tool.hover.index);
          else store.deleteShape(id, sel);
        }
        return true;
      case "h":
        store.allHidden = !store.allHidden;
        store.emit("view");
        return true;
      case "[":
        tool.brushMm = Math.max(0.5, tool.brushMm / 1.25);
        redraw();
        return true;
      case "]":
        tool.brushMm = Math.min(30, tool.brushMm * 1.25);
        redraw();
        return true;
    }
    if (c.startsWith("alt+arrow") && sel !== null && id !== null && store.editable) {
      const s = store.shapesOf(id)[sel];
      const d: Record<string, [number, number]> = {
        "alt+arrowup": [0, -1],
        "alt+arrowdown": [0, 1],
        "alt+arrowleft": [-1, 0],
        "alt+arrowright": [1, 0],
      };
      const [dx, dy] = d[c] ?? [0, 0];
      store.updateShape(id, sel, { ...s, points: s.points.map((p) => [p[0] + dx, p[1] + dy] as [number, number]) });
      return true;
    }
    const label = e.ctrlKey || e.metaKey || e.altKey ? undefined : hotkeys.get(c);
    if (label) {
      store.activeLabel = label;
      if (sel !== null && id !== null && store.editable && tool.name === "edit") {
        const s = store.shapesOf(id)[sel];
        store.updateShape(id, sel, { ...s, label });
      }
      store.emit("view");
      toast(`Label: ${label}`, "info", 1200);
      return true;
    }
    return false;
  }

  void session
    .start()
    .catch((e) => toast(`Could not load the reads: ${e instanceof Error ? e.message : String(e)}`, "error", 8000));
  refresh();
  return { store, tool, session, handleKey };
}

export function seriesOf(caseInfo: CaseInfo, imageId: number): SeriesInfo | undefined {
  return caseInfo.series.find((s) => s.images.some((im) => im.id === imageId));
}
