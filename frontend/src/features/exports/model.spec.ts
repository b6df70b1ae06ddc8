import { describe, expect, it } from "vitest";
import {
  applyProgress,
  requestBody,
  selectionText,
  sizeText,
  statusText,
  type ExportChoices,
  type ExportJob,
} from "./model";

const job: ExportJob = {
  id: 3,
  split: "test",
  selection: { kind: "gold", value: "" },
  formats: ["csv"],
  status: "running",
  progress: 0.42,
  cases_total: 50,
  cases_done: 21,
  reason: "",
  size_bytes: 0,
  created_by: "lead",
  created_at: "2026-12-06T10:00:00+00:00",
  finished_at: null,
  expires_at: null,
  download: null,
};

const choices: ExportChoices = {
  project: "cervical",
  splits: [{ value: "test", label: "Test" }],
  groups: [{ value: "annotator", label: "Annotator" }],
  people: [{ value: "7", label: "ann (annotator)" }],
  models: [{ value: "2", label: "sagittal #2 net (active)" }],
  formats: [{ value: "csv", label: "CSV" }],
};

describe("exports model", () => {
  it("refuses a request without a format or without the chosen reads", () => {
    expect(requestBody({ split: "", kind: "gold", value: "", formats: [] })).toMatch(/format/);
    expect(requestBody({ split: "", kind: "annotator", value: "", formats: ["csv"] })).toMatch(/annotator/);
    expect(requestBody({ split: "test", kind: "gold", value: "9", formats: ["csv", "csv", "coco"] })).toEqual({
      split: "test",
      selection: { kind: "gold", value: "" },
      formats: ["csv", "coco"],
    });
  });

  it("merges live progress into the listed job only", () => {
    const done = {
      id: 3,
      status: "succeeded" as const,
      progress: 1,
      cases_total: 50,
      cases_done: 50,
      reason: "",
      expires_at: null,
    };
    const merged = applyProgress([job], done);
    expect(merged.known).toBe(true);
    expect(merged.jobs[0].status).toBe("succeeded");
    expect(applyProgress([job], { ...done, id: 4 }).known).toBe(false);
  });

  it("says how far a job got, why it failed and when its link expired", () => {
    expect(statusText(job)).toBe("running 42 % (21 of 50 cases)");
    expect(statusText({ ...job, status: "failed", reason: "the pixel store is missing a file" })).toContain("missing");
    const ready = {
      ...job,
      status: "succeeded" as const,
      size_bytes: 3 * 1024 ** 2,
      expires_at: "2026-12-09T10:00:00+00:00",
    };
    expect(statusText(ready, new Date("2026-12-07T00:00:00Z"))).toBe("ready (50 cases, 3.0 MiB)");
    expect(statusText(ready, new Date("2026-12-10T00:00:00Z"))).toMatch(/expired/);
    expect(sizeText(512)).toBe("512 B");
    expect(statusText({ ...ready, cases_total: 1 }, new Date("2026-12-07T00:00:00Z"))).toBe("ready (1 case, 3.0 MiB)");
  });

  it("names the selection with the page's labels", () => {
    expect(selectionText(job, choices)).toBe("gold standard, test split");
    expect(selectionText({ ...job, split: "", selection: { kind: "annotator", value: "7" } }, choices)).toBe(
      "ann (annotator), every split",
    );
  });
});
