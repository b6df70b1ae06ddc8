/** Entry of the project's case list: live job and state badges, pre-label controls on #case-list-app. */
import "../styles/caselist.css";
import { mountCaseList } from "../features/caseList";
import { nextCaseButton } from "../features/queue";

const root = document.getElementById("case-list-app");
if (root) mountCaseList(root);

// "Next case": claims the next case this user owes under the study design and opens it.
const actions = document.querySelector<HTMLElement>(".heading-row .actions");
if (root && actions) actions.prepend(nextCaseButton(root.dataset.project ?? ""));

// Filter selects submit their form on change (no inline handlers: the CSP blocks them).
for (const select of document.querySelectorAll<HTMLSelectElement>("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form?.submit());
}
