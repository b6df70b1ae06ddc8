/** Viewer feature: viewports over full-bit-depth slices with window/level in the browser. */
export type { ViewerLayout } from "./layout";
export { createViewerLayout, showImage } from "./layout";
export type { OverlayDrawer, PointerInfo, ViewportTool } from "./viewport";
export { Viewport } from "./viewport";
export { PixelCache } from "./pixelCache";
