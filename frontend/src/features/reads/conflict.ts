/** The conflict dialog: someone saved a newer revision of the read; both versions side by side, what differs first. */

import type { CaseFields, Revision, ShapesByImage } from "../../contract/types";
import { el } from "../ui";
import { authorName } from "./author";

function countShapes(shapes: Record<string, unknown[]>): number {
  return Object.values(shapes).reduce((n, l) => n + l.length, 0);
}

function fieldsLine(fields: Record<string, unknown>): HTMLElement {
  const parts = Object.entries(fields).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return el(
    "div",
    { class: "muted", style: "margin-top:6px" },
    parts.length ? `Case fields — ${parts.join(", ")}` : "No case fields",
  );
}

/** Show the dialog (replacing an open one); the chosen button closes it and calls its handler. */
export function showConflictDialog(args: {
  mine: { shapes: ShapesByImage; case_fields: CaseFields };
  head: Revision;
  keepMine: () => void;
  takeTheirs: () => void;
}): void {
  const { mine, head, keepMine, takeTheirs } = args;
  document.querySelector("[data-testid=conflict-dialog]")?.remove();
  // With dozens of shapes the few that differ would be lost in the lists: they come first, marked.
  const keyed = (shapes: Record<string, unknown[]>) =>
    Object.entries(shapes).flatMap(([img, items]) =>
      items.map((s) => ({ img, s: s as { label: string; shape_type: string }, key: `${img}:${JSON.stringify(s)}` })),
    );
  const mineItems = keyed(mine.shapes);
  const theirItems = keyed(head.shapes);
  const list = (items: ReturnType<typeof keyed>, other: ReturnType<typeof keyed>) => {
    const others = new Set(other.map((x) => x.key));
    const ul = el("ul");
    const differs = items.filter((x) => !others.has(x.key));
    for (const x of differs)
      ul.append(
        el(
          "li",
          { class: "diff", "data-testid": "conflict-diff" },
          `${x.s.label} · ${x.s.shape_type} · image ${x.img} (only here)`,
        ),
      );
    for (const x of items)
      if (others.has(x.key)) ul.append(el("li", {}, `${x.s.label} · ${x.s.shape_type} · image ${x.img}`));
    return ul;
  };
  const keep = el(
    "button",
    { class: "primary", "data-testid": "conflict-keep-mine" },
    "Keep mine (save on top of theirs)",
  );
  const take = el("button", { "data-testid": "conflict-take-theirs" }, "Take theirs (discard mine)");
  const back = el(
    "div",
    { class: "modal-back", "data-testid": "conflict-dialog" },
    el(
      "div",
      { class: "modal" },
      el("h2", {}, "Someone saved a newer revision"),
      el(
        "p",
        { class: "muted" },
        `Revision ${head.number} by ${authorName(head.author)} was saved after the one you edited. Nothing has been overwritten; choose which version continues.`,
      ),
      el(
        "div",
        { class: "conflict-cols" },
        el(
          "div",
          { class: "card", "data-testid": "conflict-mine" },
          el("b", {}, `Mine (unsaved) · ${countShapes(mine.shapes)} shapes`),
          list(mineItems, theirItems),
          fieldsLine(mine.case_fields),
        ),
        el(
          "div",
          { class: "card", "data-testid": "conflict-theirs" },
          el("b", {}, `Theirs · rev ${head.number} · ${countShapes(head.shapes)} shapes`),
          list(theirItems, mineItems),
          fieldsLine(head.case_fields),
        ),
      ),
      el("div", { class: "actions" }, take, keep),
    ),
  );
  keep.addEventListener("click", () => {
    back.remove();
    keepMine();
  });
  take.addEventListener("click", () => {
    back.remove();
    takeTheirs();
  });
  document.body.append(back);
}
