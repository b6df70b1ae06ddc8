/** Keyboard shortcuts: one table (used by the handler and by the help overlay). */

export interface Shortcut {
  keys: string;
  what: string;
  group: "View" | "Tools" | "Edit" | "Case";
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: "Wheel / ↑ ↓", what: "Previous / next slice", group: "View" },
  { keys: "PgUp / PgDn", what: "Jump 5 slices", group: "View" },
  { keys: "Home / End", what: "First / last slice", group: "View" },
  { keys: "1 – 5", what: "Window presets: Default, T2 spine, CSF/cord, Bone/disc, Full range", group: "View" },
  { keys: "Right-drag", what: "Window / level (left-drag in Navigate)", group: "View" },
  { keys: "Middle-drag / Shift+drag", what: "Pan", group: "View" },
  { keys: "Ctrl+Wheel / + −", what: "Zoom at cursor / centre", group: "View" },
  { keys: "F", what: "Fit to the anatomy (the shapes' extent; else the whole image)", group: "View" },
  { keys: "Space", what: "Reset view (fit, default window, no invert)", group: "View" },
  { keys: "I", what: "Invert", group: "View" },
  { keys: "Tab", what: "Switch active viewport (over overlapping shapes: the next shape to pick)", group: "View" },
  { keys: "Esc", what: "Cancel drawing / Navigate tool", group: "Tools" },
  { keys: "Ctrl+J", what: "Edit mode (select, move, vertices)", group: "Tools" },
  { keys: "Ctrl+N", what: "Polygon", group: "Tools" },
  { keys: "Ctrl+R", what: "Rectangle", group: "Tools" },
  {
    keys: "Ctrl+L",
    what: "Line: a ruler (not saved; Esc clears), a caliper once a caliper label is picked",
    group: "Tools",
  },
  { keys: "Ctrl+P", what: "Point", group: "Tools" },
  { keys: "Ctrl+K", what: "Keypoints (guided vertebral corners)", group: "Tools" },
  { keys: "Ctrl+B / Ctrl+E", what: "Brush / eraser (mask); [ ] brush size", group: "Tools" },
  { keys: "Label hotkey", what: "Choose the label for new shapes", group: "Tools" },
  { keys: "Enter / double-click", what: "Close polygon", group: "Tools" },
  { keys: "Backspace (drawing)", what: "Remove last placed vertex", group: "Tools" },
  { keys: "Ctrl+Z / Ctrl+Y, Ctrl+Shift+Z", what: "Undo / redo", group: "Edit" },
  { keys: "Ctrl+D", what: "Duplicate selected shape", group: "Edit" },
  {
    keys: "Y",
    what: "Accept the withheld pre-label (dashed ghost) nearest the pointer into your read",
    group: "Edit",
  },
  { keys: "Delete", what: "Delete selected shape (or hovered vertex)", group: "Edit" },
  {
    keys: "Click (Edit)",
    what: "Selected shape first, else the nearest vertex or edge (outlined on hover)",
    group: "Edit",
  },
  { keys: "Padlock in the shape list", what: "Lock a shape: never picked or moved on the image", group: "Edit" },
  { keys: "Double-click edge", what: "Insert a vertex (Edit mode)", group: "Edit" },
  { keys: "Alt+click vertex", what: "Delete that vertex (Edit mode)", group: "Edit" },
  { keys: "Arrows (Edit, shape selected) + Alt", what: "Nudge selected shape by one pixel", group: "Edit" },
  { keys: "H", what: "Hide / show every overlay (shapes, chords, rulers, levels)", group: "Edit" },
  { keys: "Shift+H", what: "Hide / show the measurement chords", group: "Edit" },
  { keys: "Ctrl+S", what: "Save now", group: "Case" },
  { keys: "D / A", what: "Next / previous case", group: "Case" },
  { keys: "?", what: "This help", group: "Case" },
];

/** Normalised chord of a key event: "ctrl+shift+z", "alt+arrowup", "?". */
export function chord(e: KeyboardEvent): string {
  const parts: string[] = [];
  if (e.ctrlKey || e.metaKey) parts.push("ctrl");
  if (e.altKey) parts.push("alt");
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase();
  if (e.shiftKey && e.key.length > 1) parts.push("shift");
  if (e.shiftKey && e.key.length === 1 && (e.ctrlKey || e.metaKey)) parts.push("shift");
  parts.push(k);
  return parts.join("+");
}

/** Whether a key event comes from a text field (shortcuts then stay out of the way). */
export function fromTextField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  const tag = t.tagName;
  return (
    tag === "TEXTAREA" ||
    (tag === "INPUT" && !["checkbox", "radio", "range", "button"].includes((t as HTMLInputElement).type)) ||
    t.isContentEditable
  );
}
