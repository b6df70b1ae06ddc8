import { describe, expect, it } from "vitest";
import type { PacsImport } from "./model";
import { dicomDate, progressText, retryable, searchQuery, upsertImport } from "./model";

function job(over: Partial<PacsImport>): PacsImport {
  return {
    id: 1,
    status: "queued",
    studies: 1,
    instances_total: 0,
    instances_done: 0,
    cases: [],
    series: 0,
    images: 0,
    skipped: [],
    notes: [],
    errors: [],
    attempts: 0,
    created_at: null,
    finished_at: null,
    ...over,
  };
}

describe("pacs model", () => {
  it("sends only the search fields given", () => {
    expect(
      searchQuery({
        accession_number: " A1 ",
        date_from: "",
        date_to: "2024-01-02",
        modality: "",
        series_description: "",
      }),
    ).toBe("accession_number=A1&date_to=2024-01-02");
  });

  it("shows DICOM dates with dashes", () => {
    expect(dicomDate("20230517")).toBe("2023-05-17");
    expect(dicomDate("")).toBe("");
  });

  it("says how far an import got", () => {
    expect(progressText(job({ status: "running", instances_total: 52, instances_done: 13 }))).toBe(
      "Running: 13 of 52 instances fetched",
    );
    expect(progressText(job({ status: "succeeded", images: 16, series: 2, cases: ["CASE-0001"] }))).toBe(
      "Imported 16 images in 2 series (1 cases)",
    );
    expect(retryable(job({ status: "partial" }))).toBe(true);
    expect(retryable(job({ status: "succeeded" }))).toBe(false);
  });

  it("replaces an import in the list by id, newest first", () => {
    const list = [job({ id: 3 }), job({ id: 1 })];
    const next = upsertImport(list, job({ id: 1, status: "running" }));
    expect(next.map((j) => [j.id, j.status])).toEqual([
      [3, "queued"],
      [1, "running"],
    ]);
    expect(upsertImport(next, job({ id: 4 })).map((j) => j.id)).toEqual([4, 3, 1]);
  });
});
