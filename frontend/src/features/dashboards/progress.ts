/** The progress dashboard's body: figures, charts and the per-person table of `GET …/dashboard/progress`. */

import { clear, el } from "../ui";
import type { Progress } from "./api";
import type { ChartHandle } from "./chart";
import { chartCard } from "./chart";
import { duration, fmt, forecastText, orderedStates, percent, stateTitle } from "./format";
import { activeTimeSpec, casesByStateSpec, returnedRateSpec, throughputSpec } from "./specs";

export function kpi(id: string, label: string, value: string, title = ""): HTMLElement {
  return el(
    "div",
    { class: "dash-kpi", "data-testid": `kpi-${id}`, title },
    el("div", { class: "dash-kpi-value", "data-testid": `kpi-${id}-value` }, value),
    el("div", { class: "dash-kpi-label" }, label),
  );
}

function table(head: string[], rows: (string | number)[][], testid: string): HTMLElement {
  const t = el("table", { class: "dash-table", "data-testid": testid });
  t.append(el("tr", {}, ...head.map((h) => el("th", {}, h))));
  for (const r of rows) t.append(el("tr", {}, ...r.map((c) => el("td", {}, String(c)))));
  return el("div", { class: "dash-scroll" }, t);
}

export function renderProgress(host: HTMLElement, p: Progress): ChartHandle[] {
  clear(host);
  const claims = Object.entries(p.claims_in_flight)
    .map(([k, v]) => `${v} ${k}`)
    .join(" · ");
  const inFlight = Object.values(p.claims_in_flight).reduce((a, b) => a + b, 0);
  host.append(
    el(
      "div",
      { class: "dash-kpis" },
      kpi("total", "cases", String(p.total)),
      kpi("gold", "gold", String(p.by_state.gold ?? 0)),
      kpi("backlog", "backlog (not gold)", String(p.backlog)),
      kpi("rate", "gold per day", fmt(p.rate_per_day, 2), "cases signed per day over the date range"),
      kpi("forecast", "forecast finish", forecastText(p.forecast, p.backlog)),
      kpi("active", "median active time per case", duration(p.median_active_s), "idle gaps over 5 minutes excluded"),
      kpi("claims", "claims in flight", String(inFlight), claims),
    ),
  );
  const charts = [
    chartCard("states", "Cases by state", casesByStateSpec(p)),
    chartCard("throughput", "Throughput per day", throughputSpec(p)),
    chartCard("active", "Active time per case", activeTimeSpec(p)),
    chartCard("returned", "Returned-case rate per annotator", returnedRateSpec(p)),
  ];
  host.append(el("div", { class: "dash-charts" }, ...charts.map((c) => c.root)));
  const states = orderedStates(p.by_state);
  host.append(
    el("h3", {}, "Per split"),
    table(
      ["split", "cases", "backlog", ...states.map(stateTitle)],
      p.splits.map((s) => [s.split || "no split", s.total, s.backlog, ...states.map((st) => s.by_state[st] ?? 0)]),
      "split-table",
    ),
    el("h3", {}, "Per person"),
    p.people.length
      ? table(
          ["person", "role", "reads", "submitted", "returned", "returned rate", "median active", "claims"],
          p.people.map((x) => [
            x.username,
            x.role,
            x.reads,
            x.submitted,
            x.returned,
            percent(x.returned_rate),
            duration(x.median_active_s),
            x.claims_in_flight,
          ]),
          "people-table",
        )
      : el("div", { class: "empty-state", "data-testid": "people-empty" }, "Nobody has started a read yet."),
  );
  return charts;
}
