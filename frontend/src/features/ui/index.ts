/** UI helpers shared by the features (no framework): elements, toasts, downloads, side panel sections. */
export { clear, downloadText, el, section, toast } from "./dom";
