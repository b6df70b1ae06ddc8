/** Reads feature: the open read, its autosave and drafts, revisions, conflicts and live updates. */
export { authorName, ReadSession } from "./session";
export { openDraftStorage } from "./storage";
