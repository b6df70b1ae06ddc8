/** Reads feature: the open read, its autosave and drafts, revisions, conflicts and live updates. */
export type { ReadDocument } from "./session";
export { authorName } from "./author";
export { ReadSession } from "./session";
export { openDraftStorage } from "./storage";
export { relativeTime } from "./historyRows";
