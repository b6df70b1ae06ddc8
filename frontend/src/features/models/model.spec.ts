import { describe, expect, it } from "vitest";
import {
  activationQuestion,
  draftedBy,
  draftedCaveat,
  metricMean,
  progressLine,
  upsertJob,
  weightsText,
  type ModelVersion,
  type RetrainJob,
} from "./model";

const job = (id: number, progress: Record<string, unknown> = {}, error = ""): RetrainJob => ({
  id,
  task: "sagittal",
  trigger: "lead",
  status: "running",
  progress,
  error,
  base: 1,
  candidate: null,
  created_at: "2026-12-06T00:00:00Z",
  finished_at: null,
});

const model = (fields: Partial<ModelVersion> = {}): ModelVersion => ({
  id: 1,
  task: "sagittal",
  name: "m",
  status: "active",
  metrics: {},
  created_at: "",
  ...fields,
});

describe("models page", () => {
  it("says where a run is, with its loss and tune metrics", () => {
    const line = progressLine(
      job(3, {
        stage: "training",
        epoch: 2,
        epochs: 3,
        step: 50,
        steps: 50,
        loss: 0.12345,
        tune: { cord_dice: { mean: 0.912, sd: 0.01, n: 4 }, keypoint_mre_mm: { mean: 1.5, sd: 0, n: 1 } },
        epoch_seconds: 61.2,
      }),
    );
    expect(line).toBe(
      "training · epoch 2/3 · step 50/50 · loss 0.1235 · tune cord Dice 91.2 % · tune corner error 1.50 mm · 61 s per epoch",
    );
  });

  it("shows a failed run's reason", () => {
    expect(progressLine(job(1, { stage: "loading the gold standard" }, "no gold in the train split"))).toBe(
      "loading the gold standard · no gold in the train split",
    );
  });

  it("reads a metric's mean or a bare number, never NaN", () => {
    expect(metricMean({ a: { mean: 0.5 } }, "a")).toBe(0.5);
    expect(metricMean({ a: 0.25 }, "a")).toBe(0.25);
    expect(metricMean({ a: Number.NaN }, "a")).toBeNull();
    expect(metricMean(undefined, "a")).toBeNull();
  });

  it("keeps runs newest first and replaces an updated one", () => {
    const jobs = upsertJob([job(2), job(1)], { ...job(1), status: "succeeded" });
    expect(jobs.map((j) => [j.id, j.status])).toEqual([
      [2, "running"],
      [1, "succeeded"],
    ]);
    expect(upsertJob(jobs, job(5)).map((j) => j.id)).toEqual([5, 2, 1]);
  });

  it("asks before a rollback, naming the version it replaces", () => {
    const version = model({ id: 4, task: "axial", name: "shipped", status: "retired" });
    const active: ModelVersion = { ...version, id: 7, name: "retrained", status: "active" };
    expect(activationQuestion(version, active)).toBe(
      "Make active again (roll back to) axial model #4 shipped? The next pre-label jobs use it. It replaces #7 retrained, which is retired and can be restored.",
    );
  });

  it("names the weights' precision and size, and an int8 file that was not kept", () => {
    const version = model();
    expect(weightsText(version)).toBe("—");
    const int8 = { ...version, weights: { precision: "int8", size_bytes: 1.17 * 1024 ** 2, kept_float: "" } };
    expect(weightsText(int8)).toBe("int8 · 1.2 MB");
    const kept = {
      ...version,
      weights: { precision: "float32", size_bytes: 2.69 * 1024 ** 2, kept_float: "masks agree at 90 %" },
    };
    expect(weightsText(kept)).toBe("float32 (int8 not kept) · 2.7 MB");
  });

  it("warns when the active model drafted the tune gold, with both scores", () => {
    const version = model({
      id: 9,
      name: "fine-tuned",
      status: "candidate",
      metrics: {
        tune: { cord_dice: { mean: 0.912, sd: 0, n: 2 } },
        base_tune: { cord_dice: { mean: 0.934, sd: 0, n: 2 } },
        tune_drafted_by_base: { model: 1, cases: 2, of: 3 },
      },
    });
    expect(draftedBy(version)).toBe(1);
    expect(draftedCaveat(version)).toBe(
      "2 of 3 tune cases were corrected from #1's pre-labels, so the tune gold favours #1 (cord Dice 93.4 % on it, this candidate 91.2 %); judge the candidate on gold read without pre-labels too.",
    );
    const independent = {
      ...version,
      metrics: { ...version.metrics, tune_drafted_by_base: { model: 1, cases: 0, of: 3 } },
    };
    expect(draftedCaveat(independent)).toBeNull();
    expect(draftedBy(independent)).toBeNull();
    expect(draftedCaveat({ ...version, metrics: {} })).toBeNull();
  });
});
