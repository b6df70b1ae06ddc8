/** A minimal SeriesInfo for unit tests: 10 x 10 pixels, 3 mm slices, one image per id. */

import type { SeriesInfo } from "./types";

export function testSeries(id: number, orientation: "sagittal" | "axial", ids: number[], description = ""): SeriesInfo {
  return {
    id,
    number: id,
    description,
    orientation,
    rows: 10,
    columns: 10,
    pixel_spacing: [0.5, 0.5],
    slice_thickness: 3,
    slice_spacing: 3,
    dtype: "uint16",
    window: null,
    images: ids.map((imageId, index) => ({ id: imageId, index, position: index * 3 })),
  };
}
