/** Entry of the case page: viewer + annotator mounted on #app (see README.md), then the
 * workflow controls: "Next case", the claim kept alive, and "Submit" for annotators and readers. */
import "../styles/app.css";
import { mountCasePage } from "../features/casePage";
import { claimFromLocation, keepClaimAlive, nextCaseButton } from "../features/queue";
import { submitButton } from "../features/submit";

const SUBMITTING_ROLES = new Set(["annotator", "reader"]);

function mountWorkflow(root: HTMLElement): void {
  const appbar = root.querySelector<HTMLElement>("[data-testid=appbar]");
  if (!appbar) return;
  const project = root.dataset.project ?? "";
  // The claim this page was opened with, else the one the server says the user holds here.
  const claimId = claimFromLocation() ?? (Number(root.dataset.claim) || null);
  if (claimId !== null) keepClaimAlive(claimId);
  const help = appbar.querySelector("[data-testid=help-button]");
  const controls: HTMLElement[] = [];
  if (SUBMITTING_ROLES.has(root.dataset.role ?? "")) {
    const select = root.querySelector<HTMLSelectElement>("[data-testid=read-select]");
    controls.push(submitButton({ readId: () => (select?.value ? Number(select.value) : null), claimId }));
  }
  controls.push(nextCaseButton(project));
  for (const control of controls) appbar.insertBefore(control, help);
}

const root = document.getElementById("app");
if (root) void mountCasePage(root).then(() => mountWorkflow(root));
