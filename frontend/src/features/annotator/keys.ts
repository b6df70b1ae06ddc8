/** The annotator's keyboard shortcuts (the table shown by the help overlay is in features/keyboard). */

import type { Point, Template } from "../../contract/types";
import { chord } from "../keyboard";
import type { ReadSession } from "../reads";
import { toast } from "../ui";
import type { Viewport } from "../viewer";
import type { AnnotationStore } from "./store";
import type { SuggestionLayer } from "./suggestions";
import type { ToolBox, ToolName } from "./tools";

const TOOL_KEYS = new Map<string, ToolName>([
  ["ctrl+n", "polygon"],
  ["ctrl+r", "rectangle"],
  ["ctrl+j", "edit"],
  ["ctrl+l", "line"],
  ["ctrl+p", "point"],
  ["ctrl+k", "keypoint"],
  ["ctrl+b", "brush"],
  ["ctrl+e", "eraser"],
]);

/** Keys the viewer keeps whatever the template's label hotkeys say (F: fit to the anatomy). */
const VIEWER_KEYS = new Set(["f"]);

/** Alt+arrow moves the selected shape by one image pixel. */
const NUDGE = new Map<string, Point>([
  ["alt+arrowup", [0, -1]],
  ["alt+arrowdown", [0, 1]],
  ["alt+arrowleft", [-1, 0]],
  ["alt+arrowright", [1, 0]],
]);

interface KeyParts {
  template: Template;
  store: AnnotationStore;
  tools: ToolBox;
  session: ReadSession;
  redraw: () => void;
  suggestions: SuggestionLayer;
}

/** The selected shape on the viewport's slice: its image and index. */
interface Target {
  id: number | null;
  sel: number | null;
}

/** A handler that returns true when the key was the annotator's. */
export function annotatorKeys(parts: KeyParts): (e: KeyboardEvent, vp: Viewport) => boolean {
  const hotkeys = new Map(
    parts.template.labels.filter((l) => l.hotkey).map((l) => [String(l.hotkey).toLowerCase(), l.name]),
  );
  return (e, vp) => {
    const c = chord(e);
    const tool = TOOL_KEYS.get(c);
    if (tool) {
      parts.tools.setTool(tool);
      return true;
    }
    const id = vp.currentImageId;
    const selection = parts.store.selection;
    const t: Target = { id, sel: selection && selection.imageId === id ? selection.index : null };
    // Y: accept the withheld pre-label nearest the pointer into the user's read.
    if (c === "y" && parts.suggestions.accept(vp)) return true;
    const handled = commandKey(c, e, t, parts);
    if (handled !== null) return handled;
    const step = NUDGE.get(c);
    if (step) return nudge(step, t, parts.store);
    const label = e.ctrlKey || e.metaKey || e.altKey || VIEWER_KEYS.has(c) ? undefined : hotkeys.get(c);
    if (!label) return false;
    setLabel(label, t, parts);
    return true;
  };
}

/** The fixed shortcuts; null when `c` is none of them. */
function commandKey(c: string, e: KeyboardEvent, t: Target, parts: KeyParts): boolean | null {
  const { store, tools, session, redraw } = parts;
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
      if (t.sel !== null && t.id !== null && store.editable) store.duplicate(t.id, t.sel, 4);
      return true;
    case "escape":
      if (tools.kit.draft.length) tools.cancelDraft();
      else if (store.selection) store.select(null);
      else if (t.id !== null && tools.kit.rulers.delete(t.id)) redraw();
      else tools.setTool("navigate");
      return true;
    case "enter":
      return tools.finishDraft();
    case "tab":
      // Tab cycles the shapes under the pointer (else the viewer switches viewports).
      return tools.kit.hover && !e.shiftKey ? tools.kit.cycleHover() : null;
    case "backspace":
      return tools.popDraftPoint() || removeHoveredVertex(t, parts);
    case "delete":
      if (t.sel !== null && t.id !== null && store.editable && !(e.shiftKey && removeHoveredVertex(t, parts))) {
        store.deleteShape(t.id, t.sel);
      }
      return true;
    case "h":
      if (e.shiftKey) store.chordsShown = !store.chordsShown;
      else store.allHidden = !store.allHidden;
      store.emit("view");
      redraw();
      return true;
    case "f":
      return null; // F fits the view (the viewer's key), whatever label has "f" as hotkey
    case "[":
    case "]":
      tools.kit.brushMm = c === "[" ? Math.max(0.5, tools.kit.brushMm / 1.25) : Math.min(30, tools.kit.brushMm * 1.25);
      redraw();
      return true;
    default:
      return null;
  }
}

/** Delete the hovered vertex of the selected shape; false when the pointer is on none. */
function removeHoveredVertex(t: Target, { tools }: KeyParts): boolean {
  const hover = tools.kit.hover;
  if (t.sel === null || t.id === null || hover?.kind !== "vertex" || hover.shape !== t.sel) return false;
  tools.kit.removeVertex(t.id, t.sel, hover.index);
  return true;
}

function nudge([dx, dy]: Point, t: Target, store: AnnotationStore): boolean {
  if (t.sel === null || t.id === null || !store.editable) return false;
  const s = store.shapesOf(t.id)[t.sel];
  store.updateShape(t.id, t.sel, { ...s, points: s.points.map((p): Point => [p[0] + dx, p[1] + dy]) });
  return true;
}

/** A label's hotkey makes it the active label, and relabels the selected shape in the edit tool. */
function setLabel(label: string, t: Target, { store, tools }: KeyParts): void {
  store.activeLabel = label;
  if (t.sel !== null && t.id !== null && store.editable && tools.name === "edit") {
    const s = store.shapesOf(t.id)[t.sel];
    store.updateShape(t.id, t.sel, { ...s, label });
  }
  store.emit("view");
  toast(`Label: ${label}`, "info", 1200);
}
