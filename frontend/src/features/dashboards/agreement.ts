/** The model-agreement dashboard's body: each model version and human group against gold, inter-reader agreement,
 * and the trend across model versions (`GET …/dashboard/agreement`). */

import { clear, el } from "../ui";
import type { Agreement, Group } from "./api";
import type { ChartHandle } from "./chart";
import { chartCard } from "./chart";
import { fmt, iccText, isNotEnough, measurementTitle, percent, statText } from "./format";
import { kpi } from "./progress";
import { blandAltmanSpec, keypointSpec, overlapSpec, trendSpec } from "./specs";

function cellRow(cells: (string | Node)[], head = false): HTMLTableRowElement {
  return el("tr", {}, ...cells.map((c) => el(head ? "th" : "td", {}, c)));
}

function overlapTable(a: Agreement, groups: Group[]): HTMLElement {
  const t = el("table", { class: "dash-table", "data-testid": "overlap-table" });
  t.append(cellRow(["group", "n", "structure", "Dice", "IoU", "HD95"], true));
  for (const g of groups)
    for (const s of a.structures) {
      const v = g.structures[s];
      const tr = cellRow([
        g.label,
        String(g.n_cases),
        s,
        statText(v?.dice, 3),
        statText(v?.iou, 3),
        statText(v?.hd95_mm, 2, "mm"),
      ]);
      tr.dataset.group = g.key;
      tr.dataset.structure = s;
      t.append(tr);
    }
  if (groups.length === 0 || a.structures.length === 0)
    t.append(
      el(
        "tr",
        {},
        el("td", { colspan: "6", class: "dim" }, a.empty?.message ?? "No structure drawn on a gold read yet."),
      ),
    );
  return el("div", { class: "dash-scroll" }, t);
}

function keypointTable(groups: Group[]): HTMLElement {
  const t = el("table", { class: "dash-table", "data-testid": "keypoint-table" });
  t.append(cellRow(["group", "points", "mean radial error", "within 2 mm", "within 4 mm"], true));
  for (const g of groups) {
    const k = g.keypoints;
    const tr = cellRow([
      g.label,
      String(k?.n_points ?? 0),
      statText(k?.radial_error_mm, 2, "mm"),
      percent(k?.within_2mm),
      percent(k?.within_4mm),
    ]);
    tr.dataset.group = g.key;
    t.append(tr);
  }
  return el("div", { class: "dash-scroll" }, t);
}

function measurementTable(a: Agreement, groups: Group[]): HTMLElement {
  const t = el("table", { class: "dash-table", "data-testid": "icc-table" });
  t.append(
    cellRow(
      ["group", "measurement", "n", "ICC(2,1) [95 % CI]", "ICC(3,1) [95 % CI]", "bias", "limits of agreement"],
      true,
    ),
  );
  for (const g of groups)
    for (const m of a.measurements) {
      const v = g.measurements[m];
      const tr =
        !v || isNotEnough(v)
          ? el(
              "tr",
              {},
              el("td", {}, g.label),
              el("td", {}, measurementTitle(m)),
              el("td", {}, String(v?.n ?? 0)),
              el("td", { colspan: "4", class: "dim dash-why" }, v?.message ?? "—"),
            )
          : cellRow([
              g.label,
              measurementTitle(m),
              String(v.n),
              iccText(v.icc2_1),
              iccText(v.icc3_1),
              fmt(v.bland_altman.bias, 3),
              `${fmt(v.bland_altman.loa_low, 3)} … ${fmt(v.bland_altman.loa_high, 3)}`,
            ]);
      tr.dataset.group = g.key;
      tr.dataset.measurement = m;
      t.append(tr);
    }
  return el("div", { class: "dash-scroll" }, t);
}

function kappaTable(g: Group): HTMLElement | null {
  const entries = Object.entries(g.kappa ?? {});
  if (entries.length === 0) return null;
  const t = el("table", { class: "dash-table", "data-testid": "kappa-table" });
  t.append(cellRow(["case field", "n", "Cohen's kappa"], true));
  for (const [field, k] of entries)
    t.append(
      isNotEnough(k) ? cellRow([field, String(k.n ?? 0), k.message]) : cellRow([field, String(k.n), fmt(k.kappa, 3)]),
    );
  return el("div", { class: "dash-scroll" }, t);
}

export function renderAgreement(host: HTMLElement, a: Agreement): ChartHandle[] {
  clear(host);
  const groups = [...a.groups, ...(a.inter_reader ? [a.inter_reader] : [])];
  const models = a.groups.filter((g) => g.kind === "model").length;
  host.append(
    el(
      "div",
      { class: "dash-kpis" },
      kpi("n-gold", "gold cases", String(a.n_gold)),
      kpi("models", "model versions", String(models)),
      kpi("groups", "groups compared", String(a.groups.length)),
    ),
  );
  if (a.empty)
    host.append(el("div", { class: "empty-state dash-banner", "data-testid": "agreement-empty" }, a.empty.message));
  const charts = [
    chartCard("dice", "Dice per structure", overlapSpec(a, "dice")),
    chartCard("iou", "IoU per structure", overlapSpec(a, "iou")),
    chartCard("keypoints", "Keypoint mean radial error", keypointSpec(a)),
    chartCard("trend", "Trend across model versions", trendSpec(a)),
  ];
  host.append(el("div", { class: "dash-charts" }, ...charts.map((c) => c.root)));
  host.append(el("h3", {}, "Overlap against gold"), overlapTable(a, groups));
  host.append(el("h3", {}, "Keypoints against gold"), keypointTable(groups));
  host.append(el("h3", {}, "Measurements: ICC and Bland–Altman"), measurementTable(a, groups));
  const ba: ChartHandle[] = [];
  for (const g of groups)
    for (const m of a.measurements)
      ba.push(
        chartCard(
          `ba-${g.key.replace(/[^a-z0-9]+/gi, "-")}-${m}`,
          `Bland–Altman ${measurementTitle(m)} · ${g.label}`,
          blandAltmanSpec(g, m),
        ),
      );
  host.append(el("div", { class: "dash-charts dash-charts-small" }, ...ba.map((c) => c.root)));
  if (a.inter_reader) {
    const kappa = kappaTable(a.inter_reader);
    if (kappa) host.append(el("h3", {}, "Inter-reader: categorical case fields"), kappa);
  }
  return [...charts, ...ba];
}
