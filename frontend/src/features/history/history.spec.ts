import { describe as suite, expect, it } from "vitest";
import type { ReadInfo, RevisionSummary } from "../../contract/types";
import { revisionChoices, type CaseHistory, type HistoryEvent } from "./index";
import { describe } from "./timeline";

const read = (id: number, kind: ReadInfo["kind"], name: string): ReadInfo =>
  ({ id, kind, name, author: null, head: null, revision_count: 1, editable: false, case: 1 }) as unknown as ReadInfo;

const revision = (id: number, number: number): RevisionSummary => ({
  id,
  number,
  parent: null,
  author: null,
  created_at: "2026-12-06T01:00:00+00:00",
  source: "save",
  shape_count: 3,
  message: "",
});

const at = "2026-12-06T01:00:00+00:00";
const history: CaseHistory = {
  case: { id: 1, pseudonym: "C-1", state: "gold" },
  reads: [read(10, "human", "anna"), read(11, "gold", "")],
  events: [
    { type: "transition", at, actor: null, from: "new", to: "prelabelled", reason: "" },
    { type: "revision", at, actor: null, read: 10, revision: revision(100, 1) },
    { type: "revision", at, actor: null, read: 99, revision: revision(990, 1) },
    { type: "revision", at, actor: null, read: 11, revision: revision(110, 1) },
    { type: "revision", at, actor: null, read: 10, revision: revision(101, 2) },
  ],
};

suite("revisionChoices", () => {
  it("lists the revisions of the reads shown, in timeline order, and skips unknown reads", () => {
    expect(revisionChoices(history).map((c) => [c.read.id, c.id])).toEqual([
      [10, 100],
      [11, 110],
      [10, 101],
    ]);
  });
});

suite("describe", () => {
  it("names the read, the revision number, its source and shape count", () => {
    const event = history.events[4];
    expect(describe(event, history.reads)).toBe("anna revision 2 (save, 3 shapes)");
  });

  it("shows a transition with its reason, and a gold read as gold", () => {
    const move: HistoryEvent = { type: "transition", at, actor: null, from: "gold", to: "in_review", reason: "typo" };
    expect(describe(move, history.reads)).toBe("case gold → in_review (typo)");
    const signed: HistoryEvent = { type: "submission", at, actor: null, read: 11, override_reason: "" };
    expect(describe(signed, history.reads)).toBe("submitted gold");
  });

  it("says when a submission overrode the missing shapes", () => {
    const event: HistoryEvent = { type: "submission", at, actor: null, read: 10, override_reason: "motion" };
    expect(describe(event, history.reads)).toBe("submitted anna despite missing shapes: motion");
  });
});
