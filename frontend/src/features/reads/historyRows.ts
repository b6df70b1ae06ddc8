/** The revision list of the open read: who, when (relative; absolute on hover), source, a one-line
 * diff against the parent revision, and a restore that says what it will do and asks first. */

import type { Revision, RevisionSummary, ShapesByImage } from "../../contract/types";
import type { RevisionDiff, Spacing } from "../../core/diff";
import { diffRevisions } from "../../core/diff";
import { formatMm } from "../../core/geometry";
import { el } from "../ui";
import { authorName } from "./author";

/** "just now", "5 min ago", "3 h ago", "2 d ago", else the date. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return iso;
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 30 * 86400) return `${Math.round(s / 86400)} d ago`;
  return new Date(iso).toLocaleDateString();
}

/** "2 added · 1 removed · 3 moved (largest 4.2 mm, cord)", or "no change". */
export function diffLine(d: RevisionDiff): string {
  const parts: string[] = [];
  if (d.added) parts.push(`${d.added} added`);
  if (d.removed) parts.push(`${d.removed} removed`);
  if (d.moved) {
    const l = d.largest;
    const largest = l && l.displacementMm !== null ? ` (largest ${formatMm(l.displacementMm)}, ${l.label})` : "";
    parts.push(`${d.moved} moved${largest}`);
  }
  return parts.length ? parts.join(" · ") : "no change";
}

export interface HistoryRowsArgs {
  body: HTMLElement;
  revisions: RevisionSummary[];
  editable: boolean;
  /** A revision's shapes (cached by the caller). */
  shapesOf: (id: number) => Promise<ShapesByImage>;
  spacingOf: (image: string) => Spacing | null;
  restore: (r: RevisionSummary) => void;
}

/** Fill `body` with one row per revision (newest first); diffs come in as their revisions load. */
export function renderHistoryRows(a: HistoryRowsArgs): void {
  const head = a.revisions[0];
  const numbers = new Map(a.revisions.map((r) => [r.id, r.number]));
  for (const r of a.revisions) {
    const restore = el("button", { "data-testid": "restore-revision", title: "Restore this revision…" }, "Restore");
    restore.disabled = !a.editable || r.id === head?.id;
    restore.addEventListener("click", () => {
      const what =
        `Restore revision #${r.number} by ${authorName(r.author)} (${relativeTime(r.created_at)})?\n\n` +
        `This appends a copy of it as revision #${(head?.number ?? 0) + 1}, the new head. ` +
        `Nothing is deleted: the current head (#${head?.number ?? "—"}) stays in the history.`;
      if (window.confirm(what)) a.restore(r);
    });
    const diff = el("div", { class: "dim rev-diff", "data-testid": "revision-diff" }, "…");
    const when = new Date(r.created_at);
    a.body.append(
      el(
        "div",
        { class: "row rev-row", "data-testid": "revision-row", "data-revision": String(r.id) },
        el(
          "span",
          { class: "grow" },
          `#${r.number} · ${authorName(r.author)}`,
          el("span", { class: "dim" }, ` · ${r.source ?? "save"}${r.message ? ` · ${r.message}` : ""}`),
        ),
        el(
          "span",
          { class: "when", title: when.toLocaleString(), "data-testid": "revision-when" },
          relativeTime(r.created_at),
        ),
        restore,
        diff,
      ),
    );
    void fillDiff(a, r, numbers, diff);
  }
}

async function fillDiff(
  a: HistoryRowsArgs,
  r: RevisionSummary,
  numbers: Map<number, number>,
  target: HTMLElement,
): Promise<void> {
  try {
    const after = await a.shapesOf(r.id);
    const before = r.parent === null ? {} : await a.shapesOf(r.parent);
    const line = diffLine(diffRevisions(before, after, a.spacingOf));
    const against = r.parent === null ? "from nothing" : `vs #${numbers.get(r.parent) ?? "?"}`;
    target.textContent = `${line} (${against})`;
  } catch {
    target.textContent = "";
  }
}

/** A cache of revisions' shapes (a revision never changes). */
export function revisionShapes(get: (id: number) => Promise<Revision>): (id: number) => Promise<ShapesByImage> {
  const cache = new Map<number, Promise<ShapesByImage>>();
  return (id) => {
    let p = cache.get(id);
    if (!p) {
      p = get(id).then((rev) => rev.shapes);
      cache.set(id, p);
      p.catch(() => cache.delete(id));
    }
    return p;
  };
}
