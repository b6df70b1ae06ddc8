/** Composing the gold per structure: take it from one read, or fuse the shown reads (majority, STAPLE, mean). */

import { ApiError } from "../../api/client";
import { clear, el, toast } from "../ui";
import type { ReviewPayload, StructureChoice } from "./api";
import { reviewApi } from "./api";
import { fuseMethods } from "./model";
import { readShortLabel } from "./panels";

const METHOD_TEXT: Record<string, string> = { majority: "Majority", staple: "STAPLE", mean: "Mean" };

export interface ComposeHost {
  payload: () => ReviewPayload;
  shown: ReadonlySet<number>;
  reload: () => Promise<void>;
}

async function apply(host: ComposeHost, structure: string, choice: StructureChoice): Promise<void> {
  const payload = host.payload();
  try {
    const revision = await reviewApi.compose(payload.case.id, payload.gold.head, { [structure]: choice });
    toast(`Gold revision ${revision.number}: ${structure} ${"from" in choice ? "taken" : "fused"}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409)
      toast("The gold changed meanwhile: reloaded, try again", "warn", 6000);
    else toast(`Not composed: ${e instanceof Error ? e.message : String(e)}`, "error", 8000);
  }
  await host.reload();
}

/** One row per structure: a "take from" selector with its button, and a fuse button per method. */
export function renderCompose(root: HTMLElement, host: ComposeHost): void {
  clear(root);
  const payload = host.payload();
  const sources = payload.reads.filter((r) => r.kind !== "gold" && r.head !== null);
  if (sources.length === 0) {
    root.append(el("div", { class: "muted" }, "No read to take shapes from."));
    return;
  }
  for (const structure of payload.structures) {
    const select = el("select", { "data-testid": `take-${structure}`, title: `Read to take the ${structure} from` });
    for (const r of sources) select.append(el("option", { value: String(r.id) }, readShortLabel(r)));
    const take = el("button", { "data-testid": `take-${structure}-button` }, "Take");
    take.addEventListener("click", () => void apply(host, structure, { from: Number(select.value) }));
    const fuse = fuseMethods(structure).map((method) => {
      const b = el(
        "button",
        { "data-testid": `fuse-${structure}-${method}`, title: `${METHOD_TEXT[method]} of the shown reads` },
        METHOD_TEXT[method],
      );
      b.addEventListener("click", () => {
        const reads = sources.filter((r) => host.shown.has(r.id)).map((r) => r.id);
        if (reads.length === 0) toast("Show at least one read to fuse", "warn");
        else void apply(host, structure, { fuse: method, reads });
      });
      return b;
    });
    root.append(
      el(
        "div",
        { class: "row compose-row", "data-structure": structure },
        el("span", { class: "compose-name" }, structure),
        select,
        take,
        ...fuse,
      ),
    );
  }
  root.append(el("div", { class: "muted" }, "Fuse buttons combine the reads shown on the images."));
}
