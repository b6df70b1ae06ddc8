/** The tool rail: one button per tool, undo and redo; the status bar's hint for the active tool. */

import { el } from "../ui";
import type { AnnotationStore } from "./store";
import type { ToolBox, ToolName } from "./tools";

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

const TOOL_HINTS: Record<ToolName, string> = {
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

/** Rail order; null is a gap between groups. */
const ORDER: (ToolName | null)[] = [
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

export interface ToolRail {
  /** Enable undo and redo as the history allows. */
  refresh(): void;
}

export function mountToolRail(args: {
  toolrail: HTMLElement;
  hint: HTMLElement;
  tools: ToolBox;
  store: AnnotationStore;
}): ToolRail {
  const { toolrail, hint, tools, store } = args;
  const buttons = new Map<ToolName, HTMLButtonElement>();
  for (const name of ORDER) {
    if (!name) {
      toolrail.append(el("div", { class: "gap" }));
      continue;
    }
    const b = el("button", { "data-testid": `tool-${name}`, title: TOOL_TITLES[name], "aria-label": name });
    b.innerHTML = `<svg viewBox="0 0 20 20">${ICONS[name]}</svg>`;
    b.addEventListener("click", () => tools.setTool(name));
    buttons.set(name, b);
    toolrail.append(b);
  }
  const undoB = el("button", { "data-testid": "undo", title: "Undo (Ctrl+Z)" }, "↶");
  const redoB = el("button", { "data-testid": "redo", title: "Redo (Ctrl+Y)" }, "↷");
  undoB.addEventListener("click", () => store.undo());
  redoB.addEventListener("click", () => store.redo());
  toolrail.append(el("div", { class: "gap" }), undoB, redoB);
  tools.onToolChange = (name) => {
    for (const [n, b] of buttons) b.classList.toggle("on", n === name);
    hint.textContent = TOOL_HINTS[name];
    document.body.dataset.tool = name;
  };
  tools.onToolChange("navigate");
  return {
    refresh: () => {
      undoB.disabled = !store.canUndo;
      redoB.disabled = !store.canRedo;
    },
  };
}
