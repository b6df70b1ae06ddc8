/** Pure geometry of the viewer and annotator (no DOM). */
export type { ViewTransform } from "./transform";
export { fitBoxTransform, fitTransform, imageToScreen, panBy, pixelScale, screenToImage, zoomAt } from "./transform";
export type { Box } from "./polygon";
export {
  boundingBox,
  clampToImage,
  deleteVertex,
  distanceToSegment,
  distinctPointCount,
  insertVertex,
  pointInPolygon,
  polygonArea,
  polygonAreaMm2,
  rectangleCorners,
  signedArea,
  translatePoints,
} from "./polygon";
export { formatMm, lengthMm, polylineLengthMm } from "./caliper";
export type { Hit, HitKind, HitOptions } from "./hit";
export { hitCandidates, hitTest, outline } from "./hit";
export { oppositeLetters, orientationLetters } from "./orientation";
export { tissueBox } from "./tissue";
