import { describe, expect, it } from "vitest";
import type { Revision } from "../../contract/types";
import type { SaveOutcome, SavePayload, Scheduler } from "./index";
import { Autosave, DraftStore, MemoryStore } from "./index";

/** A manual clock: timers run only when the test advances it. */
class FakeScheduler implements Scheduler {
  t = 0;
  private next = 1;
  timers = new Map<number, { at: number; fn: () => void }>();
  set(fn: () => void, ms: number): number {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clear(h: number): void {
    this.timers.delete(h);
  }
  now(): number {
    return this.t;
  }
  async advance(ms: number): Promise<void> {
    this.t += ms;
    for (const [id, tm] of [...this.timers]) {
      if (tm.at <= this.t) {
        this.timers.delete(id);
        tm.fn();
      }
    }
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
}

const shapes = (n: number) => ({
  "7": Array.from({ length: n }, () => ({
    label: "cord",
    points: [
      [0, 0],
      [1, 0],
      [1, 1],
    ] as [number, number][],
    group_id: null,
    description: "",
    shape_type: "polygon" as const,
    flags: {},
  })),
});
const head = (id: number): Revision => ({
  id,
  number: id,
  parent: null,
  author: null,
  created_at: "",
  shapes: {},
  case_fields: {},
});

function setup(outcomes: (SaveOutcome | Error)[]) {
  const kv = new MemoryStore();
  const drafts = new DraftStore(kv);
  const sched = new FakeScheduler();
  const calls: SavePayload[] = [];
  let rev = 100;
  const a = new Autosave({
    readId: 5,
    parent: 1,
    drafts,
    scheduler: sched,
    delayMs: 500,
    save: (p) => {
      calls.push(p);
      const o = outcomes.shift() ?? { kind: "saved", revision: { id: ++rev, number: rev } };
      return o instanceof Error ? Promise.reject(o) : Promise.resolve(o);
    },
  });
  return { kv, drafts, sched, calls, a };
}

describe("DraftStore", () => {
  it("keeps a draft until a confirmation that covers its last edit", async () => {
    const d = new DraftStore(new MemoryStore());
    await d.put({ readId: 3, parent: 1, shapes: {}, case_fields: {}, seq: 4, savedAt: 0 });
    expect(await d.confirm(3, 3)).toBe(false);
    expect((await d.get(3))?.seq).toBe(4);
    expect(await d.confirm(3, 4)).toBe(true);
    expect(await d.get(3)).toBeNull();
  });

  it("ignores a corrupt entry", async () => {
    const kv = new MemoryStore();
    await kv.set("spinelabel:draft:9", "{not json");
    expect(await new DraftStore(kv).get(9)).toBeNull();
  });
});

describe("Autosave", () => {
  it("persists each edit at once and saves once after the debounce, then clears the draft", async () => {
    const { a, drafts, sched, calls } = setup([]);
    await a.edit(shapes(1), {});
    await a.edit(shapes(2), { q: "good" });
    expect((await drafts.get(5))?.shapes["7"]).toHaveLength(2);
    expect(a.state).toBe("pending");
    await sched.advance(499);
    expect(calls).toHaveLength(0);
    await sched.advance(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.parent).toBe(1);
    expect(a.state).toBe("saved");
    expect(a.parent).toBe(101);
    expect(await drafts.get(5)).toBeNull();
  });

  it("keeps the draft through a network failure and retries with backoff", async () => {
    const { a, drafts, sched, calls } = setup([new Error("offline"), { kind: "network", message: "502" }]);
    await a.edit(shapes(1), {});
    await sched.advance(500);
    expect(a.state).toBe("offline");
    expect(await drafts.get(5)).not.toBeNull();
    await sched.advance(2000);
    expect(calls).toHaveLength(2);
    await sched.advance(3999);
    expect(calls).toHaveLength(2);
    await sched.advance(1);
    expect(calls).toHaveLength(3);
    expect(a.state).toBe("saved");
    expect(await drafts.get(5)).toBeNull();
  });

  it("stops on a conflict and saves nothing until the user chooses", async () => {
    const { a, sched, calls, drafts } = setup([{ kind: "conflict", head: head(42) }]);
    await a.edit(shapes(1), {});
    await sched.advance(500);
    expect(a.state).toBe("conflict");
    expect(a.conflictHead?.id).toBe(42);
    await a.edit(shapes(3), {});
    await sched.advance(5000);
    expect(calls).toHaveLength(1);
    expect(await drafts.get(5)).not.toBeNull();
    await a.keepMine();
    expect(calls).toHaveLength(2);
    expect(calls[1]?.parent).toBe(42);
    expect(calls[1]?.shapes["7"]).toHaveLength(3);
    expect(a.state).toBe("saved");
  });

  it("drops my edits when I take the newer revision", async () => {
    const { a, sched, drafts } = setup([{ kind: "conflict", head: head(42) }]);
    await a.edit(shapes(1), {});
    await sched.advance(500);
    await a.takeTheirs();
    expect(a.parent).toBe(42);
    expect(a.dirty).toBe(false);
    expect(await drafts.get(5)).toBeNull();
  });

  it("saves edits made during a save on top of the new revision", async () => {
    const { a, sched, calls, drafts } = setup([]);
    await a.edit(shapes(1), {});
    await sched.advance(500); // first save runs and resolves within advance
    await a.edit(shapes(2), {});
    const first = a.flush();
    await a.edit(shapes(3), {}); // arrives while the second save is in flight
    await first;
    await sched.advance(500);
    expect(calls.map((c) => c.parent)).toEqual([1, 101, 102]);
    expect(calls[2]?.shapes["7"]).toHaveLength(3);
    expect(await drafts.get(5)).toBeNull();
  });

  it("waits for the next edit after the server refuses the shapes", async () => {
    const { a, sched, calls } = setup([
      { kind: "invalid", detail: "bad", errors: [{ image: 7, index: 0, message: "x" }] },
    ]);
    await a.edit(shapes(1), {});
    await sched.advance(500);
    expect(a.state).toBe("invalid");
    await sched.advance(60_000);
    expect(calls).toHaveLength(1);
    await a.edit(shapes(2), {});
    await sched.advance(500);
    expect(a.state).toBe("saved");
  });
});
