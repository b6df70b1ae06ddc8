/**
 * Vega-Lite specifications of the dashboards' charts, as pure data (no DOM, no Vega at run time): each builder
 * answers a spec, or the empty state that replaces the chart ("not enough data (n = 1): needs …"), never a blank
 * or NaN chart. Colours: Okabe & Ito's palette, told apart with every common colour-vision deficiency.
 */

import type { TopLevelSpec } from "vega-lite";
import type { Agreement, BlandAltman, Group, Progress, Stat } from "./api";
import { isFiniteNumber, isNotEnough, measurementTitle, notEnough, orderedStates, stateTitle } from "./format";

export const OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#BBBBBB"];

export type ChartResult = { spec: TopLevelSpec } | { empty: string };

const CONFIG = {
  background: "#141820",
  padding: 8,
  font: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
  range: { category: OKABE_ITO },
  axis: {
    // Long names (people, groups) are cut with an ellipsis: the chart keeps within its card.
    labelLimit: 150,
    labelColor: "#d8dee9",
    titleColor: "#d8dee9",
    gridColor: "#2c3441",
    domainColor: "#5f6b7d",
    tickColor: "#5f6b7d",
    labelFontSize: 11,
    titleFontSize: 11,
  },
  legend: {
    labelColor: "#d8dee9",
    titleColor: "#d8dee9",
    labelFontSize: 11,
    titleFontSize: 11,
    labelLimit: 320,
    orient: "bottom" as const,
    direction: "vertical" as const,
  },
  title: { color: "#d8dee9", fontSize: 13, anchor: "start" as const },
  view: { stroke: "#2c3441" },
};

function chart(spec: Record<string, unknown>, title: string | string[], width = 420, height = 220): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width,
    height,
    config: CONFIG,
    ...spec,
  } as TopLevelSpec;
}

// ----- progress -----

export function casesByStateSpec(p: Progress): ChartResult {
  if (p.total === 0) return { empty: notEnough(0, "at least one case in the project (or in this split)").message };
  const splits = p.splits.length ? p.splits : [{ split: "", total: p.total, by_state: p.by_state, backlog: p.backlog }];
  const states = orderedStates(p.by_state);
  const values = splits.flatMap((s) =>
    states
      .filter((st) => (s.by_state[st] ?? 0) > 0)
      .map((st) => ({
        state: stateTitle(st),
        split: s.split || "no split",
        cases: s.by_state[st] ?? 0,
      })),
  );
  return {
    spec: chart(
      {
        data: { values },
        mark: { type: "bar" },
        encoding: {
          x: { field: "state", type: "nominal", sort: states.map(stateTitle), title: null, axis: { labelAngle: 0 } },
          y: { field: "cases", type: "quantitative", title: "cases", stack: "zero" },
          color: { field: "split", type: "nominal", title: "split" },
          tooltip: [{ field: "state" }, { field: "split" }, { field: "cases" }],
        },
      },
      "Cases by state",
    ),
  };
}

export function throughputSpec(p: Progress): ChartResult {
  const days = p.throughput.filter((d) => isFiniteNumber(d.submitted) || isFiniteNumber(d.signed));
  if (days.length === 0 || days.every((d) => !d.submitted && !d.signed))
    return { empty: notEnough(0, "a submission or a signed gold read in the date range").message };
  const values = days.flatMap((d) => [
    { date: d.date, what: "submitted", cases: d.submitted ?? 0 },
    { date: d.date, what: "gold signed", cases: d.signed ?? 0 },
  ]);
  return {
    spec: chart(
      {
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "date", type: "temporal", title: null, timeUnit: "yearmonthdate" },
          y: { field: "cases", type: "quantitative", title: "cases per day" },
          color: { field: "what", type: "nominal", title: null },
        },
      },
      "Throughput per day",
    ),
  };
}

export function returnedRateSpec(p: Progress): ChartResult {
  const people = p.people.filter((x) => isFiniteNumber(x.returned_rate));
  if (people.length === 0) return { empty: notEnough(0, "a submitted read by an annotator").message };
  const values = people.map((x) => ({
    person: x.username,
    rate: x.returned_rate,
    returned: x.returned,
    reads: x.submitted,
  }));
  return {
    spec: chart(
      {
        data: { values },
        mark: { type: "bar", color: OKABE_ITO[5] },
        encoding: {
          y: { field: "person", type: "nominal", title: null, sort: "-x" },
          x: {
            field: "rate",
            type: "quantitative",
            title: "returned / submitted",
            axis: { format: ".0%" },
            scale: { domain: [0, Math.max(0.1, ...values.map((v) => v.rate ?? 0))] },
          },
        },
      },
      "Returned-case rate per annotator",
      320,
      Math.max(60, 22 * values.length),
    ),
  };
}

export function activeTimeSpec(p: Progress): ChartResult {
  const people = p.people.filter((x) => isFiniteNumber(x.median_active_s));
  if (people.length === 0) return { empty: notEnough(0, "a read with at least two saves").message };
  // Minutes once any median passes two of them, seconds below.
  const minutes = people.some((x) => (x.median_active_s ?? 0) >= 120);
  const unit = minutes ? "minutes" : "seconds";
  const values = people.map((x) => ({ person: x.username, time: (x.median_active_s ?? 0) / (minutes ? 60 : 1) }));
  return {
    spec: chart(
      {
        data: { values },
        mark: { type: "bar", color: OKABE_ITO[1] },
        encoding: {
          y: { field: "person", type: "nominal", title: null, sort: "-x" },
          x: { field: "time", type: "quantitative", title: `median active ${unit} per case` },
        },
      },
      "Active time per case (idle gaps over 5 minutes excluded)",
      320,
      Math.max(60, 22 * values.length),
    ),
  };
}

// ----- agreement -----

function groupsWithReference(a: Agreement): Group[] {
  return [...a.groups, ...(a.inter_reader ? [a.inter_reader] : [])];
}

/** Box of Dice (or IoU) per structure, one per group side by side, from the server's quantiles (min, q1, median,
 * q3, max) and mean. */
export function overlapSpec(a: Agreement, metric: "dice" | "iou"): ChartResult {
  const values: Record<string, unknown>[] = [];
  for (const g of groupsWithReference(a))
    for (const s of a.structures) {
      const stat: Stat | undefined = g.structures[s]?.[metric];
      if (!stat || isNotEnough(stat)) continue;
      values.push({ group: g.label, structure: s, ...stat });
    }
  if (values.length === 0)
    return { empty: a.empty?.message ?? notEnough(0, "a read and a signed gold read of the same case").message };
  const name = metric === "dice" ? "Dice" : "IoU";
  const groups = new Set(values.map((v) => v.group)).size;
  const structures = new Set(values.map((v) => v.structure)).size;
  const x = (field: string) => ({ field, type: "quantitative" as const });
  return {
    spec: chart(
      {
        data: { values },
        encoding: {
          y: { field: "structure", type: "nominal", title: null },
          yOffset: { field: "group", type: "nominal" },
          color: { field: "group", type: "nominal", title: null },
        },
        layer: [
          {
            mark: { type: "rule" },
            encoding: { x: { ...x("min"), title: name, scale: { domain: [0, 1] } }, x2: { field: "max" } },
          },
          { mark: { type: "bar", height: 8 }, encoding: { x: x("q1"), x2: { field: "q3" } } },
          { mark: { type: "tick", color: "#ffffff", size: 10, thickness: 2 }, encoding: { x: x("median") } },
          {
            mark: { type: "point", shape: "diamond", filled: true, color: "#ffffff", size: 24 },
            encoding: { x: x("mean") },
          },
        ],
      },
      `${name} per structure (box: quartiles, tick: median, ◆: mean)`,
      340,
      Math.max(60, 12 * groups * structures),
    ),
  };
}

export function blandAltmanSpec(g: Group, measurement: string): ChartResult {
  const m = g.measurements[measurement];
  if (!m) return { empty: notEnough(0, `a ${measurementTitle(measurement)} on a read and on its gold`).message };
  if (isNotEnough(m)) return { empty: m.message };
  const ba: BlandAltman = m.bland_altman;
  const points = ba.points
    .filter(([x, y]) => isFiniteNumber(x) && isFiniteNumber(y))
    .map(([mean, diff]) => ({ mean, diff }));
  if (points.length < 2) return { empty: notEnough(points.length, "at least 2 cases with both values").message };
  const lines = [
    { what: "bias", y: ba.bias },
    { what: "lower limit", y: ba.loa_low },
    { what: "upper limit", y: ba.loa_high },
  ].filter((l) => isFiniteNumber(l.y));
  return {
    spec: chart(
      {
        layer: [
          {
            data: { values: points },
            mark: { type: "point", filled: true, color: OKABE_ITO[1], opacity: 0.8 },
            encoding: {
              x: { field: "mean", type: "quantitative", title: "mean of the two", scale: { zero: false } },
              y: { field: "diff", type: "quantitative", title: "read − gold" },
            },
          },
          {
            data: { values: lines },
            mark: { type: "rule", strokeDash: [4, 3] },
            encoding: {
              y: { field: "y", type: "quantitative" },
              color: {
                field: "what",
                type: "nominal",
                title: null,
                scale: {
                  domain: ["bias", "lower limit", "upper limit"],
                  range: [OKABE_ITO[0], OKABE_ITO[5], OKABE_ITO[5]],
                },
              },
            },
          },
        ],
      },
      [`Bland–Altman ${measurementTitle(measurement)} (n = ${points.length})`, g.label],
      270,
      180,
    ),
  };
}

export function trendSpec(a: Agreement): ChartResult {
  const values = a.trend.flatMap((t) =>
    Object.entries(t.dice)
      .filter(([, v]) => isFiniteNumber(v))
      .map(([structure, dice]) => ({ version: t.label, created: t.created_at, structure, dice })),
  );
  const versions = new Set(values.map((v) => v.version));
  if (versions.size < 2)
    return { empty: notEnough(versions.size, "two model versions with reads of gold cases").message };
  return {
    spec: chart(
      {
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
          x: {
            field: "version",
            type: "ordinal",
            title: "model version",
            sort: { field: "created" },
            axis: { labelAngle: 0 },
          },
          y: { field: "dice", type: "quantitative", title: "mean Dice vs gold", scale: { domain: [0, 1] } },
          color: { field: "structure", type: "nominal", title: null },
        },
      },
      "Trend across model versions",
    ),
  };
}

export function keypointSpec(a: Agreement): ChartResult {
  const values = groupsWithReference(a).flatMap((g) => {
    const s = g.keypoints?.radial_error_mm;
    return s && !isNotEnough(s) && isFiniteNumber(s.mean) ? [{ group: g.label, mre: s.mean, sd: s.sd ?? 0 }] : [];
  });
  if (values.length === 0) return { empty: notEnough(0, "corners placed on a read and on its gold").message };
  return {
    spec: chart(
      {
        data: { values },
        layer: [
          {
            mark: { type: "bar" },
            encoding: {
              y: { field: "group", type: "nominal", title: null },
              x: { field: "mre", type: "quantitative", title: "mean radial error (mm)" },
              color: { field: "group", type: "nominal", legend: null },
            },
          },
        ],
      },
      "Keypoint mean radial error",
      300,
      Math.max(40, 26 * values.length),
    ),
  };
}
