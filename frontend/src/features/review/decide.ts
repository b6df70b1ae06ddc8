/** Sign the gold or return the case: each 409 (someone else signed first, the gold changed, the case moved) is
 * shown in the page's banner with what the server answered. */

import { ApiError } from "../../api/client";
import { el, toast } from "../ui";
import type { ReviewPayload, Signature } from "./api";
import { reviewApi } from "./api";

function signedBy(s: Signature | null | undefined): string {
  return s ? ` Signed by ${s.signed_by.username} at ${new Date(s.signed_at).toLocaleString()}.` : "";
}

/** Sign the gold's head; on 409 the banner names why and, when another reviewer won, their signature. */
export async function signOrExplain(payload: ReviewPayload, banner: (text: string | null) => void): Promise<void> {
  const head = payload.gold.head;
  if (head === null) {
    banner("There is no gold to sign yet: take or fuse the structures first.");
    return;
  }
  try {
    const s = await reviewApi.sign(payload.case.id, head);
    banner(null);
    toast(`Signed: the case is ${s.case_state}`);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 409 || e.status === 403)) {
      const body = (e.body ?? {}) as { detail?: string; signature?: Signature | null };
      banner(`Not signed (${e.status}): ${body.detail ?? e.message}.${signedBy(body.signature)}`);
    } else toast(`Not signed: ${e instanceof Error ? e.message : String(e)}`, "error", 8000);
  }
}

/** The return form: a reason, then the case goes back to its annotators with the open comments. */
export function returnForm(
  host: HTMLElement,
  payload: ReviewPayload,
  banner: (text: string | null) => void,
  done: () => Promise<void>,
): void {
  host.querySelector(".return-form")?.remove();
  const reason = el("textarea", { rows: "2", "data-testid": "return-reason", placeholder: "What to fix (optional)" });
  const go = el("button", { class: "primary", "data-testid": "return-confirm" }, "Return to annotator");
  const cancel = el("button", {}, "Cancel");
  const open = host.parentElement?.querySelectorAll(".thread[data-resolved=false]").length ?? 0;
  const form = el(
    "div",
    { class: "comment-form return-form", "data-testid": "return-form" },
    el("div", { class: "dim" }, `Return with ${open} open comment thread(s) shown as pins.`),
    reason,
    el("div", { class: "row" }, go, cancel),
  );
  go.addEventListener("click", () => {
    void reviewApi
      .giveBack(payload.case.id, reason.value, [])
      .then(() => {
        banner(null);
        form.remove();
        toast("Returned to the annotator");
      })
      .catch((e: unknown) => {
        const body = e instanceof ApiError ? ((e.body ?? {}) as { detail?: string }) : {};
        banner(`Not returned: ${body.detail ?? (e instanceof Error ? e.message : String(e))}`);
      })
      .finally(() => void done());
  });
  cancel.addEventListener("click", () => form.remove());
  host.prepend(form);
  reason.focus();
}
