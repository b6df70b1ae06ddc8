/** Autosave: debounced saves with optimistic concurrency, retry when offline, and explicit conflict handling. */

import type { CaseFields, Revision, ShapeError, ShapesByImage } from "../../contract/types";
import type { DraftStore } from "./drafts";

export type SaveOutcome =
  | { kind: "saved"; revision: { id: number; number: number } }
  | { kind: "conflict"; head: Revision }
  | { kind: "invalid"; detail: string; errors: ShapeError[] }
  | { kind: "network"; message: string };

export interface SavePayload {
  parent: number | null;
  shapes: ShapesByImage;
  case_fields: CaseFields;
  message: string;
}

export type SaveState = "saved" | "pending" | "saving" | "offline" | "conflict" | "invalid";

export interface Scheduler {
  set(fn: () => void, ms: number): number;
  clear(handle: number): void;
  now(): number;
}

export interface AutosaveOptions {
  readId: number;
  parent: number | null;
  drafts: DraftStore;
  save: (payload: SavePayload) => Promise<SaveOutcome>;
  scheduler: Scheduler;
  delayMs?: number;
  maxRetryMs?: number;
  onChange?: (state: SaveState, autosave: Autosave) => void;
}

export class Autosave {
  state: SaveState = "saved";
  parent: number | null;
  lastError: SaveOutcome | null = null;
  conflictHead: Revision | null = null;
  private seq = 0;
  private current: { shapes: ShapesByImage; case_fields: CaseFields } | null = null;
  private timer: number | null = null;
  private retryMs = 0;
  private inFlight: Promise<void> | null = null;

  constructor(private readonly opts: AutosaveOptions) {
    this.parent = opts.parent;
  }

  get dirty(): boolean {
    return this.current !== null;
  }

  private set(state: SaveState): void {
    this.state = state;
    this.opts.onChange?.(state, this);
  }

  /** Record an edit: persist it as a draft at once, then save after the debounce delay. */
  async edit(shapes: ShapesByImage, case_fields: CaseFields): Promise<void> {
    this.seq += 1;
    this.current = { shapes, case_fields };
    await this.opts.drafts.put({
      readId: this.opts.readId,
      parent: this.parent,
      shapes,
      case_fields,
      seq: this.seq,
      savedAt: this.opts.scheduler.now(),
    });
    if (this.state === "conflict") return; // wait for the user's choice
    this.set(this.state === "offline" ? "offline" : "pending");
    this.schedule(this.opts.delayMs ?? 800);
  }

  private schedule(ms: number): void {
    if (this.timer !== null) this.opts.scheduler.clear(this.timer);
    this.timer = this.opts.scheduler.set(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  /** Save now (also what the debounce timer calls). Resolves when this save attempt is over. */
  async flush(): Promise<void> {
    if (this.inFlight) {
      await this.inFlight;
      if (this.current && this.state !== "conflict" && this.state !== "invalid") return this.flush();
      return;
    }
    if (!this.current || this.state === "conflict") return;
    this.inFlight = this.attempt().finally(() => {
      this.inFlight = null;
    });
    await this.inFlight;
  }

  private async attempt(): Promise<void> {
    const seq = this.seq;
    const snapshot = this.current;
    if (!snapshot) return;
    this.set("saving");
    let outcome: SaveOutcome;
    try {
      outcome = await this.opts.save({
        parent: this.parent,
        shapes: snapshot.shapes,
        case_fields: snapshot.case_fields,
        message: "",
      });
    } catch (e) {
      outcome = { kind: "network", message: e instanceof Error ? e.message : String(e) };
    }
    this.lastError = outcome.kind === "saved" ? null : outcome;
    if (outcome.kind === "saved") {
      this.parent = outcome.revision.id;
      this.retryMs = 0;
      if (this.seq === seq) {
        this.current = null;
        await this.opts.drafts.confirm(this.opts.readId, seq);
        this.set("saved");
      } else {
        // Edits arrived during the save: keep them as a draft on the new parent and save again.
        const c = this.current as { shapes: ShapesByImage; case_fields: CaseFields };
        await this.opts.drafts.put({
          readId: this.opts.readId,
          parent: this.parent,
          ...c,
          seq: this.seq,
          savedAt: this.opts.scheduler.now(),
        });
        this.set("pending");
        this.schedule(this.opts.delayMs ?? 800);
      }
    } else if (outcome.kind === "conflict") {
      this.conflictHead = outcome.head;
      this.set("conflict");
    } else if (outcome.kind === "invalid") {
      this.set("invalid");
    } else {
      this.retryMs = Math.min(this.opts.maxRetryMs ?? 30_000, this.retryMs ? this.retryMs * 2 : 2000);
      this.set("offline");
      this.schedule(this.retryMs);
    }
  }

  /** After a conflict: keep my edits on top of the newer head (an explicit choice), and save them. */
  async keepMine(): Promise<void> {
    if (!this.conflictHead) return;
    this.parent = this.conflictHead.id;
    this.conflictHead = null;
    if (this.current) {
      await this.opts.drafts.put({
        readId: this.opts.readId,
        parent: this.parent,
        ...this.current,
        seq: this.seq,
        savedAt: this.opts.scheduler.now(),
      });
    }
    this.set("pending");
    await this.flush();
  }

  /** After a conflict: drop my edits and continue from the newer head (or any revision `head`). */
  async takeTheirs(head: { id: number } | null = this.conflictHead): Promise<void> {
    if (this.timer !== null) this.opts.scheduler.clear(this.timer);
    this.timer = null;
    this.parent = head ? head.id : this.parent;
    this.conflictHead = null;
    this.current = null;
    await this.opts.drafts.discard(this.opts.readId);
    this.set("saved");
  }

  /** Another view saved a new head while nothing is pending here: follow it. */
  follow(headId: number): void {
    if (!this.current && this.state !== "conflict") this.parent = headId;
  }
}
