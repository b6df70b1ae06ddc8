/** The case list's rows for the keyboard and the clock: ↑/↓ or j/k move the current row,
 * Enter opens its case; times read relative ("3 h ago") with the absolute time on hover. */

import { relativeTime } from "../reads";

/** Keys that move through the list, and by how many rows. */
const MOVES: Record<string, number> = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 };

/** Whether a key press belongs to a form control (typing, choosing) rather than the list. */
function inControl(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(target.tagName))
  );
}

/** The row a move lands on: the first (or last, moving up) when none is current yet, and
 * never past either end. */
export function nextRow(current: number, step: number, count: number): number {
  if (count <= 0) return -1;
  if (current < 0) return step > 0 ? 0 : count - 1;
  return Math.min(count - 1, Math.max(0, current + step));
}

export class RowCursor {
  private index = -1;

  constructor(private readonly rows: HTMLTableRowElement[]) {}

  get current(): HTMLTableRowElement | null {
    return this.rows[this.index] ?? null;
  }

  /** Make row `index` the current one, and scroll it into view. */
  moveTo(index: number): void {
    const row = this.rows[index];
    if (!row) return;
    this.current?.classList.remove("current");
    this.current?.removeAttribute("aria-selected");
    this.index = index;
    if (!row) return;
    row.classList.add("current");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  /** Handle a key; true when the list used it. */
  onKey(e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey || e.altKey || inControl(e.target)) return false;
    const step = MOVES[e.key];
    if (step !== undefined) {
      this.moveTo(nextRow(this.index, step, this.rows.length));
      return true;
    }
    if (e.key === "Enter" && this.current) {
      const link = this.current.querySelector<HTMLAnchorElement>("a[data-testid=case-link]");
      if (link) window.location.assign(link.href);
      return Boolean(link);
    }
    return false;
  }

  /** Listen on the document; a click on a row makes it current. */
  install(doc: Document): void {
    doc.addEventListener("keydown", (e) => {
      if (this.onKey(e)) e.preventDefault();
    });
    this.rows.forEach((row, i) => row.addEventListener("click", () => this.moveTo(i)));
  }
}

/** Times under root: `time.relative` reads relative with the absolute time as its title;
 * other times (the pre-label's model) keep their text and say when in their title. */
export function showRelativeTimes(root: ParentNode, now: number = Date.now()): void {
  for (const t of root.querySelectorAll<HTMLTimeElement>("time[datetime]")) {
    const iso = t.dateTime;
    const at = Date.parse(iso);
    if (!Number.isFinite(at)) continue;
    const absolute = new Date(at).toLocaleString();
    if (t.classList.contains("relative")) {
      t.textContent = relativeTime(iso, now);
      t.title = absolute;
    } else {
      t.title = `pre-labelled ${relativeTime(iso, now)} (${absolute})`;
    }
  }
}
