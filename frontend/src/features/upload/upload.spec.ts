import { describe, expect, it } from "vitest";
import { batches, caseOutcomeText, fileProgress, formatBytes, summaryHeading } from "./index";

const entry = (size: number, name = "f") => ({ file: { size } as File, path: name });

describe("upload batches", () => {
  it("splits by file count and by total size, keeping order", () => {
    const many = Array.from({ length: 900 }, (_, i) => entry(10, `f${i}`));
    const b = batches(many);
    expect(b.map((x) => x.length)).toEqual([400, 400, 100]);
    expect(b[1]?.[0]?.path).toBe("f400");
    const big = [entry(200 * 1024 * 1024), entry(100 * 1024 * 1024), entry(1)];
    expect(batches(big).map((x) => x.length)).toEqual([1, 2]);
    expect(batches([])).toEqual([]);
  });
});

describe("upload file progress", () => {
  it("fills the files in order as the bytes go out", () => {
    expect(fileProgress([100, 50, 50], 0)).toEqual([0, 0, 0]);
    expect(fileProgress([100, 50, 50], 125)).toEqual([1, 0.5, 0]);
    expect(fileProgress([100, 50, 50], 500)).toEqual([1, 1, 1]);
  });
  it("formats sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(34 * 1024)).toBe("34.0 KB");
    expect(formatBytes(1.25 * 1024 * 1024)).toBe("1.3 MB");
  });
});

describe("import summary", () => {
  const dup = { id: 9, pseudonym: "CASE-0009", created: false, outcome: "duplicate" as const, series: 0, images: 0 };
  it("explains a duplicate", () => {
    expect(caseOutcomeText(dup)).toBe("study already in CASE-0009: nothing new");
    expect(summaryHeading([{ status: 201, body: { cases: [dup] } }], [dup])).toBe("Already imported: nothing new");
  });
  it("says what a new case and an addition brought", () => {
    const fresh = { id: 10, pseudonym: "CASE-0010", created: true, outcome: "new" as const, series: 1, images: 20 };
    expect(caseOutcomeText(fresh)).toBe("new case: 1 series · 20 images");
    const added = { id: 9, pseudonym: "CASE-0009", created: false, outcome: "added" as const, series: 1, images: 1 };
    expect(caseOutcomeText(added)).toBe("added to the existing CASE-0009: 1 series · 1 image");
    expect(summaryHeading([{ status: 201, body: {} }], [dup, fresh])).toBe("Import summary");
  });
});
