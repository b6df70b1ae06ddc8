/** Patient-orientation letters of image directions (DICOM LPS: +x left, +y posterior, +z superior). */

/** Letter(s) of the direction a unit vector points to, dominant axis first ("" when unknown). */
export function orientationLetters(v: readonly number[] | null | undefined): string {
  if (!v || v.length !== 3 || v.some((c) => !Number.isFinite(c))) return "";
  const axes: [number, string, string][] = [
    [v[0], "L", "R"],
    [v[1], "P", "A"],
    [v[2], "S", "I"],
  ];
  return axes
    .filter(([c]) => Math.abs(c) > 0.25)
    .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
    .map(([c, pos, neg]) => (c > 0 ? pos : neg))
    .join("");
}

/** The letter for the opposite direction. */
export function oppositeLetters(letters: string): string {
  const o: Record<string, string> = { L: "R", R: "L", P: "A", A: "P", S: "I", I: "S" };
  return letters
    .split("")
    .map((c) => o[c] ?? c)
    .join("");
}
