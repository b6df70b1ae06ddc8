/** Dashboards (issue 12 §1, §2, §6): a project's progress and its model agreement, filtered by split and date (kept in
 * the URL), with charts loaded only here; a save, submission or signature anywhere in the project refetches the part
 * it changed (the project socket's `dashboard.changed`), without a reload. */

import { coalesced } from "../../core/coalesce";
import "./dashboards.css";

import { ApiError } from "../../api/client";
import type { LiveEvent } from "../../api/live";
import { LiveSocket, RECONNECTED } from "../../api/live";
import { clear, el } from "../ui";
import { renderAgreement } from "./agreement";
import type { Agreement, Progress } from "./api";
import { dashboardApi } from "./api";
import type { ChartHandle } from "./chart";
import type { Filters } from "./filters";
import { filterProblem, filterQuery, parseFilters, SPLITS } from "./filters";
import { renderProgress } from "./progress";

export { fileStem } from "./chart";
export { duration, fmt, forecastText, iccText, notEnough, percent, statText } from "./format";
export { filterQuery, parseFilters } from "./filters";

type Part = "progress" | "agreement";

class DashboardPage {
  filters: Filters;
  readonly body = el("div", { class: "dash-body", "data-testid": "dash-body" });
  readonly status = el("span", { class: "dim", "data-testid": "dash-status" });
  private charts: ChartHandle[] = [];
  version = 0;

  constructor(
    readonly root: HTMLElement,
    readonly slug: string,
    readonly part: Part,
  ) {
    this.filters = parseFilters(location.search);
  }

  private filterBar(): HTMLElement {
    const split = el("select", { "data-testid": "filter-split", "aria-label": "split" });
    for (const s of SPLITS) split.append(el("option", { value: s }, s || "all splits"));
    split.value = this.filters.split;
    const from = el("input", {
      type: "date",
      "data-testid": "filter-from",
      "aria-label": "from",
      value: this.filters.from,
    });
    const to = el("input", { type: "date", "data-testid": "filter-to", "aria-label": "to", value: this.filters.to });
    const apply = () => {
      const next = { split: split.value, from: from.value, to: to.value };
      const problem = filterProblem(next);
      this.status.textContent = problem ?? "";
      if (problem) return;
      this.filters = next;
      history.replaceState(null, "", `${location.pathname}${filterQuery(next)}`);
      void this.reload();
    };
    for (const input of [split, from, to]) input.addEventListener("change", apply);
    return el(
      "div",
      { class: "dash-filters", "data-testid": "dash-filters" },
      el("label", {}, "Split ", split),
      el("label", {}, "From ", from),
      el("label", {}, "To ", to),
      this.status,
    );
  }

  mount(): void {
    const base = `/projects/${encodeURIComponent(this.slug)}/dashboards`;
    const tab = (p: Part, title: string) =>
      el(
        "a",
        {
          class: `dash-tab${p === this.part ? " on" : ""}`,
          href: `${base}/${p}${filterQuery(this.filters)}`,
          "data-testid": `dash-tab-${p}`,
        },
        title,
      );
    this.root.append(
      el(
        "div",
        { class: "dash-head" },
        el("nav", { class: "dash-tabs" }, tab("progress", "Progress"), tab("agreement", "Model agreement")),
        this.filterBar(),
      ),
      this.body,
    );
    new LiveSocket(`/ws/projects/${encodeURIComponent(this.slug)}/`, (e: LiveEvent) => this.onLive(e));
  }

  private onLive(e: LiveEvent): void {
    if (e.type === RECONNECTED) {
      void this.reload();
      return;
    }
    if (e.type !== "dashboard.changed") return;
    const parts = Array.isArray(e.parts) ? (e.parts as unknown[]) : [this.part];
    if (parts.includes(this.part)) void this.reload();
  }

  /** Fetch and draw; calls while one is in flight coalesce into one more. */
  readonly reload = coalesced(() => this.load());

  private async load(): Promise<void> {
    this.root.dataset.state = "loading";
    let data: Progress | Agreement;
    try {
      data =
        this.part === "progress"
          ? await dashboardApi.progress(this.slug, this.filters)
          : await dashboardApi.agreement(this.slug, this.filters);
    } catch (e) {
      this.root.dataset.state = "error";
      clear(this.body);
      const msg = e instanceof ApiError ? e.message : String(e);
      this.body.append(
        el("div", { class: "empty-state", "data-testid": "dash-error" }, `Could not load the dashboard: ${msg}`),
      );
      return;
    }
    for (const c of this.charts) c.dispose();
    this.charts =
      this.part === "progress"
        ? renderProgress(this.body, data as Progress)
        : renderAgreement(this.body, data as Agreement);
    this.version += 1;
    this.root.dataset.version = String(this.version);
    this.root.dataset.state = "ready";
    await Promise.all(this.charts.map((c) => c.ready));
    this.root.dataset.charts = "ready";
  }
}

export async function mountDashboardPage(root: HTMLElement): Promise<void> {
  const slug = root.dataset.project ?? "";
  const part: Part = root.dataset.page === "agreement" ? "agreement" : "progress";
  const page = new DashboardPage(root, slug, part);
  page.mount();
  await page.reload();
}
