/** Offline safety: drafts kept in browser storage and the autosave state machine (no DOM). */
export type { Draft, KeyValueStore } from "./drafts";
export { DraftStore, MemoryStore } from "./drafts";
export type { AutosaveOptions, SaveOutcome, SavePayload, SaveState, Scheduler } from "./autosave";
export { Autosave } from "./autosave";
