/** The tissue box: the bounding box of a slice's non-background pixels, which a fit frames
 * when there is no pre-label (the air around the patient is dark and noisy in MRI). */

/** Share of the way from the dark to the bright end of the slice above which a pixel is tissue. */
const TISSUE_LEVEL = 0.15;
/** A row or column is tissue when at least this share of its pixels (and 3 pixels) are. */
const LINE_SHARE = 0.03;
/** Values kept for the percentiles (every k-th pixel). */
const SAMPLES = 16_384;

function percentiles(pixels: ArrayLike<number>, ps: number[]): number[] {
  const step = Math.max(1, Math.floor(pixels.length / SAMPLES));
  const sample: number[] = [];
  for (let i = 0; i < pixels.length; i += step) {
    const v = pixels[i];
    if (v !== undefined && Number.isFinite(v)) sample.push(v);
  }
  sample.sort((a, b) => a - b);
  return ps.map((p) => sample[Math.min(sample.length - 1, Math.floor((p / 100) * sample.length))] ?? 0);
}

/** First and last index (exclusive end) whose count reaches `need`, or null. */
function span(counts: Uint32Array, need: number): [number, number] | null {
  let first = -1;
  let last = -1;
  for (let i = 0; i < counts.length; i++) {
    if ((counts[i] ?? 0) >= need) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? null : [first, last + 1];
}

/**
 * Box (x0, y0, x1, y1, image pixels) around the slice's tissue, row-major `pixels` of
 * `columns` × `rows`; null when the slice is flat, has no tissue, or is tissue nearly edge to
 * edge (then the whole image is the region).
 */
export function tissueBox(
  pixels: ArrayLike<number>,
  columns: number,
  rows: number,
): [number, number, number, number] | null {
  if (columns <= 0 || rows <= 0 || pixels.length < columns * rows) return null;
  const [dark = 0, bright = 0] = percentiles(pixels, [2, 98]);
  if (!(bright > dark)) return null;
  const level = dark + TISSUE_LEVEL * (bright - dark);
  const perColumn = new Uint32Array(columns);
  const perRow = new Uint32Array(rows);
  for (let y = 0; y < rows; y++) {
    let n = 0;
    const row = y * columns;
    for (let x = 0; x < columns; x++) {
      if ((pixels[row + x] ?? 0) > level) {
        n++;
        perColumn[x] = (perColumn[x] ?? 0) + 1;
      }
    }
    perRow[y] = n;
  }
  const xs = span(perColumn, Math.max(3, LINE_SHARE * rows));
  const ys = span(perRow, Math.max(3, LINE_SHARE * columns));
  if (!xs || !ys) return null;
  if (xs[1] - xs[0] >= 0.95 * columns && ys[1] - ys[0] >= 0.95 * rows) return null;
  return [xs[0], ys[0], xs[1], ys[1]];
}
