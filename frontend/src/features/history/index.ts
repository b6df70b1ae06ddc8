/**
 * The case history page: the timeline of everything that happened to the case that this user
 * may see (the server applies blinding), kept live, and the diff of any two revisions.
 */

import { coalesced } from "../../core/coalesce";
import { ApiError, getJSON } from "../../api/client";
import { DENIED, LiveSocket } from "../../api/live";
import type { CaseInfo, ReadInfo, Revision, RevisionSummary } from "../../contract/types";
import { diffRevisions } from "../../core/diff";
import { clear, el, toast } from "../ui";
import { imagePlaces, renderDiff } from "./diffView";
import { type CaseHistory, renderTimeline } from "./timeline";

export type { CaseHistory, HistoryEvent } from "./timeline";

interface RevisionChoice {
  id: number;
  read: ReadInfo;
  revision: RevisionSummary;
}

function readTitle(read: ReadInfo): string {
  if (read.kind === "gold") return "Gold standard";
  const who = read.name || read.author?.username || read.kind;
  return read.kind === "human" ? who : `${who} (${read.kind})`;
}

/** Every revision of the visible reads, by read, oldest first. */
export function revisionChoices(history: CaseHistory): RevisionChoice[] {
  const reads = new Map(history.reads.map((r) => [r.id, r]));
  const choices: RevisionChoice[] = [];
  for (const event of history.events) {
    if (event.type !== "revision") continue;
    const read = reads.get(Number(event.read));
    if (read)
      choices.push({ id: (event.revision as RevisionSummary).id, read, revision: event.revision as RevisionSummary });
  }
  return choices;
}

function fillSelect(select: HTMLSelectElement, choices: RevisionChoice[], selected: number | null): void {
  const groups = new Map<number, HTMLOptGroupElement>();
  clear(select);
  for (const c of choices) {
    let group = groups.get(c.read.id);
    if (!group) {
      group = el("optgroup", { label: readTitle(c.read) });
      groups.set(c.read.id, group);
      select.append(group);
    }
    const when = new Date(c.revision.created_at).toLocaleString();
    group.append(
      el(
        "option",
        { value: String(c.id), selected: c.id === selected, "data-read": String(c.read.id) },
        `rev ${c.revision.number} · ${when}`,
      ),
    );
  }
}

/** The last two revisions of the read with the most revisions (what changed most recently). */
function defaultPair(choices: RevisionChoice[]): [number | null, number | null] {
  const byRead = new Map<number, RevisionChoice[]>();
  for (const c of choices) byRead.set(c.read.id, [...(byRead.get(c.read.id) ?? []), c]);
  const longest = [...byRead.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  const last = longest.at(-1)?.id ?? null;
  return [longest.at(-2)?.id ?? last, last];
}

export class HistoryPage {
  private readonly list: HTMLElement;
  private readonly from: HTMLSelectElement;
  private readonly to: HTMLSelectElement;
  private readonly result: HTMLElement;
  private readonly places;

  constructor(
    private readonly root: HTMLElement,
    private readonly info: CaseInfo,
  ) {
    this.list = root.querySelector<HTMLElement>("[data-testid=timeline]") ?? el("ol");
    this.from = root.querySelector<HTMLSelectElement>("[data-testid=diff-from]") ?? el("select");
    this.to = root.querySelector<HTMLSelectElement>("[data-testid=diff-to]") ?? el("select");
    this.result = root.querySelector<HTMLElement>("[data-testid=diff-result]") ?? el("div");
    this.places = imagePlaces(info);
  }

  mount(): void {
    this.root.querySelector("form")?.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.compare();
    });
    new LiveSocket(this.info.id, (e) => {
      if (e.type === DENIED) toast("You no longer have access to this case; reload the page", "error", 10000);
      else if (e.type !== "pong") void this.reload();
    });
  }

  /** Fetch the history again; calls during a fetch coalesce into one more fetch. */
  readonly reload = coalesced(() => this.fetch());

  private async fetch(): Promise<void> {
    const history = await getJSON<CaseHistory>(`/api/cases/${this.info.id}/history`);
    renderTimeline(this.list, history);
    const choices = revisionChoices(history);
    const [from, to] = defaultPair(choices);
    const keep = (select: HTMLSelectElement, fallback: number | null): number | null =>
      select.value && choices.some((c) => String(c.id) === select.value) ? Number(select.value) : fallback;
    fillSelect(this.from, choices, keep(this.from, from));
    fillSelect(this.to, choices, keep(this.to, to));
    this.root.dataset.state = history.case.state;
    this.root.dataset.loaded = "true";
  }

  async compare(): Promise<void> {
    const [a, b] = [Number(this.from.value), Number(this.to.value)];
    if (!a || !b) return;
    try {
      const [before, after] = await Promise.all([
        getJSON<Revision>(`/api/revisions/${a}`),
        getJSON<Revision>(`/api/revisions/${b}`),
      ]);
      const diff = diffRevisions(before.shapes, after.shapes, (image) => this.places.get(image)?.spacing ?? null);
      renderDiff(this.result, diff, this.places);
    } catch (e) {
      toast(`Could not compare: ${e instanceof ApiError ? e.message : String(e)}`, "error");
    }
  }
}

export async function mountHistoryPage(root: HTMLElement): Promise<HistoryPage | null> {
  const node = document.getElementById("case-data");
  const info = node?.textContent ? (JSON.parse(node.textContent) as CaseInfo) : null;
  if (!info) {
    root.append(el("div", { class: "empty-state" }, "Could not open this case."));
    return null;
  }
  const page = new HistoryPage(root, info);
  page.mount();
  try {
    await page.reload();
  } catch (e) {
    toast(`Could not load the history: ${e instanceof ApiError ? e.message : String(e)}`, "error", 10000);
  }
  return page;
}
