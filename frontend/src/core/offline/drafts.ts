/** Unsaved edits kept in browser storage until the server confirms them (survive reloads and network loss). */

import type { CaseFields, ShapesByImage } from "../../contract/types";

/** Async key-value storage (IndexedDB in the browser, memory in tests). */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export class MemoryStore implements KeyValueStore {
  readonly data = new Map<string, string>();
  get(key: string): Promise<string | null> {
    return Promise.resolve(this.data.get(key) ?? null);
  }
  set(key: string, value: string): Promise<void> {
    this.data.set(key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.data.delete(key);
    return Promise.resolve();
  }
}

export interface Draft {
  readId: number;
  /** The revision these edits were made on (null for a read without revisions). */
  parent: number | null;
  shapes: ShapesByImage;
  case_fields: CaseFields;
  /** Increases with every edit; a confirmation clears the draft only up to the edit it saved. */
  seq: number;
  /** Milliseconds since the epoch, for display. */
  savedAt: number;
}

export class DraftStore {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly prefix = "spinelabel:draft:",
  ) {}

  private key(readId: number): string {
    return `${this.prefix}${readId}`;
  }

  async put(draft: Draft): Promise<void> {
    await this.kv.set(this.key(draft.readId), JSON.stringify(draft));
  }

  async get(readId: number): Promise<Draft | null> {
    const text = await this.kv.get(this.key(readId));
    if (!text) return null;
    try {
      const d = JSON.parse(text) as Draft;
      if (typeof d !== "object" || d === null || d.readId !== readId || typeof d.shapes !== "object") return null;
      return d;
    } catch {
      return null; // a corrupt entry is not worth failing the page over
    }
  }

  /** The server stored edits up to `seq`: drop the draft unless newer edits were made since. */
  async confirm(readId: number, seq: number): Promise<boolean> {
    const d = await this.get(readId);
    if (d && d.seq > seq) return false;
    await this.kv.delete(this.key(readId));
    return true;
  }

  async discard(readId: number): Promise<void> {
    await this.kv.delete(this.key(readId));
  }
}
