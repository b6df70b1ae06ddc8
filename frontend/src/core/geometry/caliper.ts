/** Physical lengths of calipers and polylines (mm), with anisotropic pixel spacing. */

import type { Point } from "../../contract/types";

export function lengthMm(a: Point, b: Point, spacingRow: number, spacingCol: number): number {
  return Math.hypot((b[0] - a[0]) * spacingCol, (b[1] - a[1]) * spacingRow);
}

export function polylineLengthMm(points: readonly Point[], spacingRow: number, spacingCol: number): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    total += lengthMm(points[i - 1], points[i], spacingRow, spacingCol);
  }
  return total;
}

/** Format a length for the overlay: two decimals under 10 mm, one above. */
export function formatMm(mm: number): string {
  return `${mm < 10 ? mm.toFixed(2) : mm.toFixed(1)} mm`;
}
