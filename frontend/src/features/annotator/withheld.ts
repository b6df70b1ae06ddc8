/** The case page's list of withheld pre-labels: which series and slice each one is on. */

import type { SeriesInfo } from "../../contract/types";
import type { Suggestion } from "../../core/suggestions";
import { imageLabel, imageOrder } from "../measure";

export interface WithheldRow {
  item: Suggestion;
  /** "sagittal · slice 5/9": the slice as the page names it elsewhere (an image id means nothing to a reader). */
  slice: string;
}

/** One row per withheld pre-label, named by its series and slice, in the case's series order and then
 * slice order (the API lists them by image id, which need not follow the slices); those of one slice
 * keep their order. */
export function withheldRows(items: readonly Suggestion[], series: readonly SeriesInfo[]): WithheldRow[] {
  return items
    .map((item) => ({ item, slice: imageLabel(series, item.image), order: imageOrder(series, item.image) }))
    .sort((a, b) => a.order - b.order)
    .map(({ item, slice }) => ({ item, slice }));
}
