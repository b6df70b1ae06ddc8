import { describe, expect, it } from "vitest";
import { applyProgress, isUnknown, statusText, type ReportJob } from "./model";

const job: ReportJob = {
  id: 7,
  split: "test",
  status: "queued",
  progress: 0,
  stage: "",
  reason: "",
  requested_by: "lead",
  created_at: "2026-12-06T04:00:00Z",
  finished_at: null,
  html_url: null,
  csv_url: null,
};

describe("report jobs", () => {
  it("applies a progress event to the job it names only", () => {
    const other = { ...job, id: 8 };
    const next = applyProgress([other, job], {
      report: 7,
      status: "running",
      progress: 0.45,
      stage: "drawing the charts",
      reason: "",
    });
    expect(next[0]).toBe(other);
    expect(next[1]).toMatchObject({ status: "running", progress: 0.45 });
    expect(statusText(next[1])).toBe("45 %: drawing the charts");
  });

  it("notices a job it does not list yet", () => {
    const event = { report: 9, status: "queued" as const, progress: 0, stage: "", reason: "" };
    expect(isUnknown([job], event)).toBe(true);
    expect(isUnknown([job], { ...event, report: 7 })).toBe(false);
  });

  it("says why a report failed", () => {
    expect(statusText({ ...job, status: "failed", reason: "the report could not be generated: disk full" })).toBe(
      "Failed: the report could not be generated: disk full",
    );
  });
});
