/** The case history's timeline: one list item per record, newest last, with who and when. */

import type { ReadInfo, RevisionSummary, UserRef } from "../../contract/types";
import { el } from "../ui";

export interface HistoryEvent {
  type: "transition" | "claim" | "claim_released" | "submission" | "comment" | "revision" | "signature";
  at: string;
  actor: UserRef | null;
  [key: string]: unknown;
}

export interface CaseHistory {
  case: { id: number; pseudonym: string; state: string };
  reads: ReadInfo[];
  events: HistoryEvent[];
}

function readName(reads: ReadInfo[], id: unknown): string {
  const read = reads.find((r) => r.id === id);
  if (!read) return `read ${String(id)}`;
  if (read.kind === "gold") return "gold";
  return read.name || read.kind;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** What happened, in a few words (the actor and time are shown beside it). */
export function describe(event: HistoryEvent, reads: ReadInfo[]): string {
  switch (event.type) {
    case "transition": {
      const reason = str(event.reason); // null when withheld from a blinded member
      return `case ${str(event.from)} → ${str(event.to)}${reason ? ` (${reason})` : ""}`;
    }
    case "claim": {
      const claim = event.claim as { purpose?: string } | undefined;
      return `claimed the case to ${claim?.purpose ?? "work"}`;
    }
    case "claim_released": {
      const claim = event.claim as { purpose?: string; reason?: string; user?: UserRef | null } | undefined;
      const who = claim?.user?.username ?? "someone";
      return `${who}'s ${claim?.purpose ?? ""} claim ended: ${claim?.reason ?? ""}`;
    }
    case "submission": {
      const override = str(event.override_reason);
      return `submitted ${readName(reads, event.read)}${override ? ` despite missing shapes: ${override}` : ""}`;
    }
    case "comment": {
      const comment = event.comment as { body?: string; parent?: number | null } | undefined;
      return `${comment?.parent ? "replied" : "commented"}: ${comment?.body ?? ""}`;
    }
    case "revision": {
      const revision = event.revision as RevisionSummary;
      const message = revision.message ? ` — ${revision.message}` : "";
      return `${readName(reads, event.read)} revision ${revision.number} (${revision.source ?? "save"}, ${revision.shape_count} shapes)${message}`;
    }
    case "signature":
      return `signed the gold standard (revision id ${String(event.revision)})`;
    default:
      return event.type;
  }
}

export function renderTimeline(list: HTMLElement, history: CaseHistory): void {
  const items = history.events.map((event) =>
    el(
      "li",
      { class: `timeline-event timeline-${event.type}`, "data-testid": "timeline-event", "data-type": event.type },
      el("time", { datetime: event.at }, new Date(event.at).toLocaleString()),
      " ",
      el("strong", {}, event.actor?.username ?? "system"),
      " ",
      describe(event, history.reads),
    ),
  );
  list.replaceChildren(...items);
  list.dataset.count = String(items.length);
}
