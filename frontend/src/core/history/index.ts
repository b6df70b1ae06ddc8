/** Undo/redo over immutable document snapshots (structural sharing keeps them cheap). */

export class UndoStack<T> {
  private past: T[] = [];
  private future: T[] = [];

  constructor(
    private present: T,
    private readonly limit = 200,
  ) {}

  get current(): T {
    return this.present;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Record a new state; it drops the redo branch. Pushing the current state is a no-op. */
  push(next: T): void {
    if (next === this.present) return;
    this.past.push(this.present);
    if (this.past.length > this.limit) this.past.shift();
    this.present = next;
    this.future = [];
  }

  /** Replace the current state without a history step (e.g. while a drag is in progress). */
  replace(next: T): void {
    this.present = next;
  }

  undo(): T | null {
    const prev = this.past.pop();
    if (prev === undefined) return null;
    this.future.push(this.present);
    this.present = prev;
    return prev;
  }

  redo(): T | null {
    const next = this.future.pop();
    if (next === undefined) return null;
    this.past.push(this.present);
    this.present = next;
    return next;
  }

  /** Start over from `state` (after loading another revision). */
  reset(state: T): void {
    this.past = [];
    this.future = [];
    this.present = state;
  }
}
