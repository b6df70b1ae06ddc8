import { describe, expect, it } from "vitest";
import type { JobInfo } from "../../contract/types";
import { isNewer, JobBoard, jobSummary, jobText, latestToShow, parseJob, percent } from "./index";

function job(over: Partial<JobInfo> = {}): JobInfo {
  return { id: 1, case: 7, status: "queued", progress: 0, message: "", error: "", read: null, attempts: 0, ...over };
}

describe("parseJob", () => {
  it("reads the payload of inference.serializers.JobOutputSerializer", () => {
    const parsed = parseJob({
      id: 3,
      case: 9,
      status: "running",
      progress: 0.5,
      message: "sagittal series predicted",
      error: "",
      read: null,
      attempts: 1,
      created_at: "2025-01-01T00:00:00Z",
      finished_at: null,
    });
    expect(parsed).toEqual({
      id: 3,
      case: 9,
      status: "running",
      progress: 0.5,
      message: "sagittal series predicted",
      error: "",
      read: null,
      attempts: 1,
      created_at: "2025-01-01T00:00:00Z",
      finished_at: null,
    });
  });

  it("rejects what is not a job and clamps the progress", () => {
    expect(parseJob(null)).toBeNull();
    expect(parseJob({ id: 1, case: 2, status: "exploded" })).toBeNull();
    expect(parseJob({ id: "1", case: 2, status: "queued" })).toBeNull();
    expect(parseJob({ id: 1, case: 2, status: "running", progress: 7 })?.progress).toBe(1);
    expect(parseJob({ id: 1, case: 2, status: "running", progress: Number.NaN })?.progress).toBe(0);
  });
});

describe("isNewer", () => {
  it("takes any first job and a later job of the case", () => {
    expect(isNewer(null, job())).toBe(true);
    expect(isNewer(job({ id: 1, status: "failed" }), job({ id: 2 }))).toBe(true);
    expect(isNewer(job({ id: 2 }), job({ id: 1, status: "succeeded" }))).toBe(false);
  });

  it("drops a stale unfinished state of a finished run (a slow first GET after the live event)", () => {
    const done = job({ status: "succeeded", progress: 1, attempts: 1 });
    expect(isNewer(done, job({ status: "running", progress: 0.5, attempts: 1 }))).toBe(false);
    expect(isNewer(done, job({ status: "queued", attempts: 1 }))).toBe(false);
    expect(
      isNewer(
        job({ status: "running", progress: 0.5, attempts: 1 }),
        job({ status: "running", progress: 0.2, attempts: 1 }),
      ),
    ).toBe(false);
  });

  it("takes progress, the end of a run, and a retry", () => {
    expect(isNewer(job({ status: "queued" }), job({ status: "running", attempts: 1 }))).toBe(true);
    expect(
      isNewer(
        job({ status: "running", progress: 0.2, attempts: 1 }),
        job({ status: "running", progress: 0.5, attempts: 1 }),
      ),
    ).toBe(true);
    expect(isNewer(job({ status: "running", attempts: 1 }), job({ status: "failed", attempts: 1 }))).toBe(true);
    expect(isNewer(job({ status: "failed", attempts: 1 }), job({ status: "running", attempts: 2 }))).toBe(true);
  });
});

describe("latestToShow", () => {
  it("shows the newest job unless it succeeded", () => {
    expect(latestToShow([])).toBeNull();
    expect(latestToShow([job({ id: 4, status: "failed" }), job({ id: 2, status: "succeeded" })])?.id).toBe(4);
    expect(latestToShow([job({ id: 2, status: "failed" }), job({ id: 5, status: "running" })])?.id).toBe(5);
    expect(latestToShow([job({ id: 6, status: "succeeded" }), job({ id: 5, status: "failed" })])).toBeNull();
  });
});

describe("jobText", () => {
  it("says the status, the percentage while running and the job's message", () => {
    expect(jobText(job())).toBe("Queued");
    expect(jobText(job({ status: "running", progress: 0.5, message: "sagittal series predicted" }))).toBe(
      "Running 50 % · sagittal series predicted",
    );
    expect(jobText(job({ status: "running", progress: 0.5, message: "x" }), { message: false })).toBe("Running 50 %");
    expect(jobText(job({ status: "succeeded", progress: 1, message: "12 shapes" }))).toBe("Done · 12 shapes");
    expect(jobText(job({ status: "failed", error: "no active model", message: "loading the models" }))).toBe("Failed");
    expect(percent(0.456)).toBe(46);
    expect(percent(-1)).toBe(0);
  });
});

describe("JobBoard", () => {
  it("keeps the latest job per case and lists the active ones", () => {
    const board = new JobBoard();
    expect(board.apply(job({ id: 1, case: 1, status: "running", attempts: 1 }))).toBe(true);
    expect(board.apply(job({ id: 2, case: 2 }))).toBe(true);
    expect(board.active().sort()).toEqual([1, 2]);
    expect(board.apply(job({ id: 1, case: 1, status: "succeeded", progress: 1, attempts: 1 }))).toBe(true);
    expect(board.apply(job({ id: 1, case: 1, status: "running", progress: 0.5, attempts: 1 }))).toBe(false);
    expect(board.get(1)?.status).toBe("succeeded");
    expect(board.active()).toEqual([2]);
  });
});

describe("jobSummary", () => {
  it("counts the jobs still to watch", () => {
    expect(jobSummary([])).toBe("");
    expect(
      jobSummary([
        job({ status: "running" }),
        job({ status: "queued" }),
        job({ status: "queued" }),
        undefined,
        job({ status: "succeeded" }),
        job({ status: "failed" }),
      ]),
    ).toBe("1 running · 2 queued · 1 failed");
  });
});
