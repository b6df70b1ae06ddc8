/** The keyboard help overlay ("?"). */

import { SHORTCUTS } from "../keyboard";
import { el } from "../ui";

export function showHelp(): void {
  if (document.querySelector("[data-testid=help-overlay]")) return;
  const groups = ["View", "Tools", "Edit", "Case"] as const;
  const grid = el("div", { class: "help-grid" });
  for (const g of groups) {
    grid.append(el("h2", { style: "grid-column: 1 / -1" }, g));
    for (const s of SHORTCUTS.filter((x) => x.group === g)) {
      grid.append(el("div", {}, el("span", {}, s.what), el("span", { class: "k" }, el("kbd", {}, s.keys))));
    }
  }
  const close = el("button", { class: "primary", "data-testid": "help-close" }, "Close");
  const back = el(
    "div",
    { class: "modal-back", "data-testid": "help-overlay" },
    el("div", { class: "modal" }, el("h2", {}, "Keyboard shortcuts"), grid, el("div", { class: "actions" }, close)),
  );
  const remove = () => back.remove();
  close.addEventListener("click", remove);
  back.addEventListener("click", (e) => {
    if (e.target === back) remove();
  });
  document.body.append(back);
}
