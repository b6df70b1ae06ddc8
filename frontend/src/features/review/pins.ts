/** Review comments on the case page: the pins of the comments the user may see drawn on their slices, and a side
 * section listing the open threads (a returned case shows the reviewer's pins to its annotator). */

import { getAllPages } from "../../api/client";
import type { CaseInfo } from "../../contract/types";
import { clear, el, section } from "../ui";
import type { ViewerLayout } from "../viewer";
import { showImage } from "../viewer";
import type { Comment } from "./api";
import { drawPins } from "./overlay";

/** Load the case's comments once; nothing is added when there are none. */
export async function mountCommentPins(args: {
  caseInfo: CaseInfo;
  layout: ViewerLayout;
  side: HTMLElement;
}): Promise<void> {
  let comments: Comment[];
  try {
    comments = await getAllPages<Comment>(`/api/cases/${args.caseInfo.id}/comments`);
  } catch {
    return; // comments are an aid here: the annotator works without them
  }
  const roots = comments.filter((c) => c.parent === null);
  if (roots.length === 0) return;
  let selected: number | null = null;
  for (const vp of args.layout.viewports) {
    vp.drawers.push((ctx, v) => drawPins(ctx, v, { pins: () => comments, selectedPin: () => selected }));
    vp.invalidate(false);
  }
  const part = section("Review comments", "review-comments-section");
  const list = part.body;
  const render = () => {
    clear(list);
    roots.forEach((c, i) => {
      const row = el(
        "div",
        { class: `row${c.resolved ? " dim" : ""}`, "data-testid": `pin-${c.id}` },
        el("span", { class: "pin-no" }, String(i + 1)),
        el("span", { class: "grow", title: c.body }, `${c.author.username}: ${c.body}`),
      );
      row.addEventListener("click", () => {
        selected = c.id;
        if (c.image !== null) showImage(args.layout, c.image);
        for (const vp of args.layout.viewports) vp.invalidate(false);
      });
      list.append(row);
      for (const r of comments.filter((x) => x.parent === c.id))
        list.append(el("div", { class: "reply" }, `${r.author.username}: ${r.body}`));
    });
  };
  render();
  part.count.textContent = String(roots.filter((c) => !c.resolved).length);
  args.side.prepend(part.root);
}
