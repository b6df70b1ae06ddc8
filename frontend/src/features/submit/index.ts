/** Submit: the case page's "Submit" button and dialog. GET /api/reads/{id}/check lists what the
 * read lacks; POST /api/reads/{id}/submit hands it in, with a written reason when it is
 * incomplete (docs/API.md). */

import { ApiError, getJSON, postJSON } from "../../api/client";
import { el, toast } from "../ui";

export interface SubmitProblem {
  code: string;
  message: string;
  image: number | null;
  names: string[];
}

interface CheckReply {
  ready: boolean;
  missing: SubmitProblem[];
}

interface SubmitReply {
  id: number;
  read: number;
  case_state: string;
  override_reason: string;
}

export interface SubmitOptions {
  /** The read shown now (the select of the read session), or null. */
  readId: () => number | null;
  /** The claim this page holds (`?claim=`), sent so a stale one is refused. */
  claimId: number | null;
  onSubmitted?: (reply: SubmitReply) => void;
}

function problemList(missing: SubmitProblem[]): HTMLElement {
  return el(
    "ul",
    { class: "submit-missing", "data-testid": "submit-missing-list" },
    ...missing.map((p) => el("li", { "data-testid": "submit-missing", "data-code": p.code }, p.message)),
  );
}

/** The dialog: what is missing (if anything), an override reason, Submit and Cancel. */
export function openSubmitDialog(readId: number, check: CheckReply, options: SubmitOptions): HTMLElement {
  const reason = el("textarea", {
    style: "display: block; width: 100%; margin-top: 4px",
    "data-testid": "submit-override",
    rows: "3",
    placeholder: "Why submit without them (required when something is missing)",
  });
  const error = el("p", { class: "error", "data-testid": "submit-error", role: "alert" });
  const confirm = el("button", { class: "primary", "data-testid": "submit-confirm" }, "Submit");
  const cancel = el("button", { "data-testid": "submit-cancel" }, "Cancel");
  const body = check.ready
    ? el("p", { "data-testid": "submit-ready" }, "Every required shape is there. Hand this read in for review?")
    : el(
        "div",
        {},
        el("p", {}, "This read still lacks:"),
        problemList(check.missing),
        el("label", { style: "display: block" }, "Override reason", reason),
      );
  const back = el(
    "div",
    { class: "modal-back", "data-testid": "submit-dialog" },
    el(
      "div",
      { class: "modal" },
      el("h2", {}, "Submit this read"),
      body,
      error,
      el("div", { class: "actions" }, cancel, confirm),
    ),
  );
  cancel.addEventListener("click", () => back.remove());
  confirm.addEventListener("click", () => {
    if (!check.ready && !reason.value.trim()) {
      error.textContent = "Write why you submit without the missing shapes, or add them first.";
      reason.focus();
      return;
    }
    confirm.disabled = true;
    const payload = { override_reason: check.ready ? "" : reason.value, claim: options.claimId };
    postJSON<SubmitReply>(`/api/reads/${readId}/submit`, payload)
      .then((reply) => {
        back.remove();
        toast(
          reply.case_state === "submitted" ? "Submitted for review." : "Submitted; the case waits for its other reads.",
        );
        options.onSubmitted?.(reply);
      })
      .catch((e: unknown) => {
        confirm.disabled = false;
        error.textContent = e instanceof ApiError ? e.message : String(e);
      });
  });
  document.body.append(back);
  (check.ready ? confirm : reason).focus();
  return back;
}

/** The "Submit" button: checks the read shown, then opens the dialog. */
export function submitButton(options: SubmitOptions): HTMLButtonElement {
  const button = el("button", { "data-testid": "submit-read", title: "Hand your read in for review" }, "Submit");
  button.addEventListener("click", () => {
    const readId = options.readId();
    if (readId === null) {
      toast("Open your own read to submit it.", "warn");
      return;
    }
    button.disabled = true;
    getJSON<CheckReply>(`/api/reads/${readId}/check`)
      .then((check) => openSubmitDialog(readId, check, options))
      .catch((e: unknown) => toast(`Submit: ${e instanceof ApiError ? e.message : String(e)}`, "error"))
      .finally(() => {
        button.disabled = false;
      });
  });
  return button;
}
