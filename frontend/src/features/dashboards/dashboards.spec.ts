import { describe, expect, it } from "vitest";
import type { Agreement, Group, Progress } from "./api";
import { filterProblem, filterQuery, parseFilters } from "./filters";
import { duration, fmt, forecastText, iccText, notEnough, percent, statText } from "./format";
import { fileStem } from "./chart";
import { blandAltmanSpec, casesByStateSpec, OKABE_ITO, overlapSpec, throughputSpec, trendSpec } from "./specs";

const progress = (over: Partial<Progress> = {}): Progress => ({
  project: "p",
  filters: { split: null, from: null, to: null },
  total: 3,
  by_state: { new: 1, gold: 2 },
  splits: [{ split: "test", total: 3, by_state: { new: 1, gold: 2 }, backlog: 1 }],
  throughput: [
    { date: "2026-12-01", submitted: 1, signed: 0 },
    { date: "2026-12-02", submitted: 0, signed: 2 },
  ],
  backlog: 1,
  rate_per_day: 1,
  forecast: { status: "ok", finish_date: "2026-12-07", days: 0.6 },
  median_active_s: 250,
  claims_in_flight: { annotate: 1, read: 0, review: 0 },
  people: [],
  ...over,
});

const group = (over: Partial<Group> = {}): Group => ({
  key: "model:1",
  kind: "model",
  label: "v1",
  model_version: null,
  n_cases: 2,
  structures: {
    cord: {
      dice: { status: "ok", n: 2, mean: 0.9, sd: 0.01, median: 0.9, q1: 0.89, q3: 0.91, min: 0.88, max: 0.92 },
      iou: { status: "ok", n: 2, mean: 0.8, sd: 0.02, median: 0.8, q1: 0.79, q3: 0.81, min: 0.78, max: 0.82 },
      hd95_mm: { status: "not_enough_data", n: 0, message: "not enough data (n = 0): needs a mask" },
    },
  },
  keypoints: { radial_error_mm: notEnough(0, "corners"), within_2mm: null, within_4mm: null, n_points: 0 },
  measurements: {
    mscc: notEnough(1, "at least 2 cases with both values"),
  },
  ...over,
});

const agreement = (groups: Group[], over: Partial<Agreement> = {}): Agreement => ({
  project: "p",
  filters: { split: null, from: null, to: null },
  n_gold: 2,
  empty: null,
  structures: ["cord"],
  measurements: ["mscc"],
  groups,
  inter_reader: null,
  trend: [],
  ...over,
});

describe("formatting never shows NaN", () => {
  it("formats numbers, shares and durations, and a dash for what is missing", () => {
    expect(fmt(0.91234, 3)).toBe("0.912");
    expect(fmt(NaN)).toBe("—");
    expect(fmt(null)).toBe("—");
    expect(fmt(Infinity)).toBe("—");
    expect(percent(0.825)).toBe("83 %");
    expect(percent(undefined)).toBe("—");
    expect(duration(45)).toBe("45 s");
    expect(duration(252)).toBe("4 min 12 s");
    expect(duration(3780)).toBe("1 h 03 min");
    expect(duration(null)).toBe("—");
  });

  it("says why a figure is missing", () => {
    expect(notEnough(1, "at least 2 cases").message).toBe("not enough data (n = 1): needs at least 2 cases");
    expect(statText(group().structures.cord.hd95_mm)).toBe("not enough data (n = 0): needs a mask");
    expect(statText(group().structures.cord.dice)).toBe("0.900 ± 0.010");
    expect(iccText({ value: 0.93, ci_low: 0.851, ci_high: 0.97 })).toBe("0.93 [0.85, 0.97]");
    expect(iccText({ value: null, ci_low: null, ci_high: null })).toBe("—");
  });

  it("forecasts the finish or explains why not", () => {
    expect(forecastText(progress().forecast, 1)).toBe("2026-12-07 (in 1 days) at the current rate");
    expect(forecastText(notEnough(0, "a signed gold case in the range"), 4)).toBe(
      "not enough data (n = 0): needs a signed gold case in the range",
    );
    expect(forecastText(undefined, 0)).toBe("Every case is gold: nothing left.");
  });
});

describe("filters kept in the URL", () => {
  it("round-trips and drops malformed values", () => {
    const f = parseFilters("?split=test&from=2026-01-01&to=2026-02-01");
    expect(f).toEqual({ split: "test", from: "2026-01-01", to: "2026-02-01" });
    expect(filterQuery(f)).toBe("?split=test&from=2026-01-01&to=2026-02-01");
    expect(parseFilters("?split=bogus&from=yesterday")).toEqual({ split: "", from: "", to: "" });
    expect(filterQuery({ split: "", from: "", to: "" })).toBe("");
    expect(filterProblem({ split: "", from: "2026-03-01", to: "2026-02-01" })).toMatch(/after/);
  });
});

describe("chart specs", () => {
  it("draws cases by state in the Okabe–Ito palette", () => {
    const r = casesByStateSpec(progress());
    expect("spec" in r).toBe(true);
    const spec = JSON.stringify(r);
    expect(spec).toContain(OKABE_ITO[0]);
    expect(spec).not.toContain("NaN");
  });

  it("shows an empty state instead of a blank chart", () => {
    expect(casesByStateSpec(progress({ total: 0 }))).toEqual({
      empty: "not enough data (n = 0): needs at least one case in the project (or in this split)",
    });
    const quiet = throughputSpec(progress({ throughput: [{ date: "2026-12-01", submitted: 0, signed: 0 }] }));
    expect("empty" in quiet && quiet.empty).toMatch(/^not enough data \(n = 0\)/);
    expect(blandAltmanSpec(group(), "mscc")).toEqual({
      empty: "not enough data (n = 1): needs at least 2 cases with both values",
    });
    expect(overlapSpec(agreement([]), "dice")).toHaveProperty("empty");
    const trend = trendSpec(agreement([group()]));
    expect("empty" in trend && trend.empty).toBe(
      "not enough data (n = 0): needs two model versions with reads of gold cases",
    );
  });

  it("draws the distribution of each group's Dice and a Bland–Altman with its limits", () => {
    const r = overlapSpec(agreement([group()]), "dice");
    expect(JSON.stringify(r)).toContain('"q1":0.89');
    const ba = blandAltmanSpec(
      group({
        measurements: {
          mscc: {
            status: "ok",
            n: 3,
            icc2_1: { value: 0.9, ci_low: 0.5, ci_high: 0.99 },
            icc3_1: { value: 0.91, ci_low: 0.5, ci_high: 0.99 },
            bland_altman: {
              bias: 0.5,
              sd: 1,
              loa_low: -1.46,
              loa_high: 2.46,
              points: [
                [10, 1],
                [12, 0],
                [14, 0.5],
              ],
            },
          },
        },
      }),
      "mscc",
    );
    expect("spec" in ba).toBe(true);
    expect(JSON.stringify(ba)).toContain('"y":2.46');
  });

  it("names downloads after the chart", () => {
    expect(fileStem("Bland–Altman MSCC · Model v1")).toBe("bland-altman-mscc-model-v1");
    expect(fileStem("···")).toBe("chart");
  });
});
