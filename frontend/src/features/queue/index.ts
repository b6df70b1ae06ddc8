/** Work queue: the "Next case" button (POST /api/projects/{slug}/queue/next) and keeping the
 * claim on the open case alive (POST /api/claims/{id}/renew) while its page is open. */

import { ApiError, postJSON } from "../../api/client";
import { el, toast } from "../ui";

export interface ClaimInfo {
  id: number;
  case: { id: number; pseudonym: string; state: string; split: string; url: string };
  user: { id: number; username: string };
  purpose: string;
  slot: number;
  read: number | null;
  claimed_at: string;
  expires_at: string;
  expired: boolean;
}

interface NextReply {
  claim: ClaimInfo | null;
  detail?: string;
}

/** Renew a little more often than the server's 30-minute expiry needs. */
export const RENEW_EVERY_MS = 5 * 60 * 1000;
const CLAIM_PARAM = "claim";

/** The address of a claimed case: its page, carrying the claim so the page keeps it alive. */
export function claimUrl(claim: ClaimInfo): string {
  return `${claim.case.url}?${CLAIM_PARAM}=${claim.id}`;
}

/** Ask for the next case and go there; says so when the queue is empty. */
export async function goToNextCase(project: string): Promise<ClaimInfo | null> {
  const reply = await postJSON<NextReply>(`/api/projects/${encodeURIComponent(project)}/queue/next`, {});
  if (!reply.claim) {
    toast(reply.detail ?? "Nothing is left in your queue.", "info");
    return null;
  }
  location.assign(claimUrl(reply.claim));
  return reply.claim;
}

/** A "Next case" button; disabled while asking. */
export function nextCaseButton(project: string): HTMLButtonElement {
  const button = el(
    "button",
    { class: "button primary", "data-testid": "next-case", title: "Claim the next case you owe" },
    "Next case",
  );
  button.addEventListener("click", () => {
    button.disabled = true;
    goToNextCase(project)
      .catch((e: unknown) => toast(`Next case: ${e instanceof ApiError ? e.message : String(e)}`, "error"))
      .finally(() => {
        button.disabled = false;
      });
  });
  return button;
}

/** The claim id this page was opened with (`?claim=`), if any. */
export function claimFromLocation(): number | null {
  const id = Number(new URLSearchParams(location.search).get(CLAIM_PARAM));
  return Number.isInteger(id) && id > 0 ? id : null;
}

/** Renew the claim now and then while the page is open; stops (and warns) once it ended.
 * Returns a function that stops renewing. */
export function keepClaimAlive(claimId: number, onEnded?: (message: string) => void): () => void {
  let timer = 0;
  const stop = (): void => {
    window.clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
  const renew = (): void => {
    postJSON<ClaimInfo>(`/api/claims/${claimId}/renew`, {}).catch((e: unknown) => {
      if (e instanceof ApiError && (e.status === 409 || e.status === 404)) {
        stop();
        const message = `Your claim on this case ended: ${e.message}`;
        toast(message, "warn", 8000);
        onEnded?.(message);
      }
      // A network error: the next tick tries again (the claim lasts 30 minutes).
    });
  };
  const onVisible = (): void => {
    if (document.visibilityState === "visible") renew();
  };
  timer = window.setInterval(renew, RENEW_EVERY_MS);
  document.addEventListener("visibilitychange", onVisible);
  renew();
  return stop;
}
