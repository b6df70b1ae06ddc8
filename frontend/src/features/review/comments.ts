/** Comment threads pinned to a point of a slice: list, reply, resolve, and the form a pin opens. */

import { clear, el, toast } from "../ui";
import type { Comment, NewComment, ReviewPayload } from "./api";
import { reviewApi } from "./api";
import type { ImageLabel } from "./model";
import { readLabel } from "./panels";

export interface CommentsHost {
  payload: () => ReviewPayload;
  comments: () => readonly Comment[];
  images: ReadonlyMap<number, ImageLabel>;
  select: (c: Comment) => void;
  selected: () => number | null;
  reload: () => Promise<void>;
}

function where(c: Comment, images: ReadonlyMap<number, ImageLabel>): string {
  if (c.image === null) return "case";
  const im = images.get(c.image);
  return im ? `${im.view} #${im.index + 1}` : `image ${c.image}`;
}

async function post(host: CommentsHost, c: NewComment): Promise<boolean> {
  try {
    await reviewApi.comment(host.payload().case.id, c);
  } catch (e) {
    toast(`Comment not posted: ${e instanceof Error ? e.message : String(e)}`, "error", 8000);
    return false;
  }
  await host.reload();
  return true;
}

/** The read a new comment is about: the annotators see comments on their own read. */
function aboutSelect(host: CommentsHost): HTMLSelectElement {
  const s = el("select", { "data-testid": "comment-read", title: "The read this comment is about" });
  s.append(el("option", { value: "" }, "the case (reviewers only)"));
  for (const r of host.payload().reads.filter((r) => r.kind === "human")) {
    s.append(el("option", { value: String(r.id) }, readLabel(r)));
  }
  const first = host.payload().reads.find((r) => r.key === "annotator");
  if (first) s.value = String(first.id);
  return s;
}

/** The form under the comments list for a new (pinned) comment. */
export function openCommentForm(
  root: HTMLElement,
  host: CommentsHost,
  pin: { image: number; x: number; y: number } | null,
): void {
  root.querySelector(".comment-form")?.remove();
  const text = el("textarea", { rows: "3", "data-testid": "comment-body", placeholder: "Comment…" });
  const about = aboutSelect(host);
  const send = el("button", { class: "primary", "data-testid": "comment-post" }, "Post");
  const cancel = el("button", {}, "Cancel");
  const label = pin
    ? `Pinned at ${where({ image: pin.image } as Comment, host.images)} (${pin.x.toFixed(0)}, ${pin.y.toFixed(0)})`
    : "Comment on the case";
  const form = el(
    "div",
    { class: "comment-form", "data-testid": "comment-form" },
    el("div", { class: "dim" }, label),
    text,
    about,
    el("div", { class: "row" }, send, cancel),
  );
  send.addEventListener("click", () => {
    const read = about.value ? Number(about.value) : null;
    void post(host, { body: text.value, read, ...(pin ?? {}) }).then((ok) => ok && form.remove());
  });
  cancel.addEventListener("click", () => form.remove());
  root.prepend(form);
  text.focus();
}

function thread(host: CommentsHost, root: Comment, n: number, replies: Comment[]): HTMLElement {
  const box = el("div", {
    class: `thread${root.resolved ? " resolved" : ""}${host.selected() === root.id ? " selected" : ""}`,
    "data-testid": `thread-${root.id}`,
    "data-resolved": root.resolved ? "true" : "false",
  });
  const head = el(
    "div",
    { class: "thread-head" },
    el("span", { class: "pin-no" }, String(n)),
    el("b", {}, root.author.username),
    el("span", { class: "dim" }, where(root, host.images)),
    root.returned_with !== null ? el("span", { class: "dim" }, "· returned") : null,
  );
  head.addEventListener("click", () => host.select(root));
  box.append(head, el("div", { class: "comment-body" }, root.body));
  for (const r of replies) box.append(el("div", { class: "reply" }, el("b", {}, `${r.author.username}: `), r.body));
  const reply = el("input", { type: "text", placeholder: "Reply…", "data-testid": `reply-${root.id}` });
  reply.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !reply.value.trim()) return;
    void post(host, { body: reply.value, parent: root.id });
  });
  const resolve = el("button", { "data-testid": `resolve-${root.id}` }, root.resolved ? "Reopen" : "Resolve");
  resolve.addEventListener("click", () => {
    void reviewApi
      .resolve(host.payload().case.id, root.id, !root.resolved)
      .then(() => host.reload())
      .catch((e: unknown) => toast(e instanceof Error ? e.message : String(e), "error"));
  });
  box.append(el("div", { class: "row" }, reply, resolve));
  return box;
}

/** Threads in pin order (the numbers drawn on the images), open ones first. */
export function renderComments(root: HTMLElement, host: CommentsHost): void {
  const form = root.querySelector(".comment-form");
  clear(root);
  if (form) root.append(form);
  const all = host.comments();
  const roots = all.filter((c) => c.parent === null);
  if (roots.length === 0) root.append(el("div", { class: "muted" }, "No comments. Pin one on the image."));
  const order = [...roots.entries()].sort(([, a], [, b]) => Number(a.resolved) - Number(b.resolved));
  for (const [i, c] of order) {
    root.append(
      thread(
        host,
        c,
        i + 1,
        all.filter((r) => r.parent === c.id),
      ),
    );
  }
}
