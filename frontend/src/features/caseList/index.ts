/**
 * The project's case list (server-rendered table) made live: a job badge per row and the state
 * badges follow the project WebSocket; leads and reviewers select cases and ask for pre-labels;
 * the keyboard moves through the rows (rows.ts).
 */

import { ApiError, getJSON, postJSON } from "../../api/client";
import { DENIED, LiveSocket, RECONNECTED } from "../../api/live";
import type { LiveEvent } from "../../api/live";
import type { JobInfo } from "../../contract/types";
import { JobBoard, jobSummary, jobText, latestToShow, parseJob, percent } from "../../core/jobs";
import { el, toast } from "../ui";
import { RowCursor, showRelativeTimes } from "./rows";

/** How long "Pre-label all" waits for its confirming second click (ms). */
const CONFIRM_MS = 5000;

interface QueueCounts {
  states: Record<string, number>;
  claimed: Record<string, number>;
}

interface Row {
  id: number;
  tr: HTMLTableRowElement;
  state: HTMLElement | null;
  job: HTMLElement;
  box: HTMLInputElement | null;
}

export class CaseList {
  readonly board = new JobBoard();
  readonly rows = new Map<number, Row>();
  readonly toolbar = el("div", { class: "toolbar-row case-tools", "data-testid": "case-tools" });
  readonly selectAll = el("input", {
    type: "checkbox",
    "data-testid": "select-all-cases",
    title: "Select every case of this page",
  });
  readonly prelabelSelected = el(
    "button",
    { class: "primary", "data-testid": "prelabel-selected", disabled: true },
    "Pre-label selected",
  );
  readonly prelabelAll = el(
    "button",
    { "data-testid": "prelabel-all", title: "Queue a pre-label job for every case of the project" },
    "Pre-label all",
  );
  readonly summary = el("span", { class: "muted", "data-testid": "jobs-summary" });
  /** The project's work waiting (GET .../queue/counts, then `queue.changed` events). */
  readonly queueCounts = el("span", { class: "muted queue-counts", "data-testid": "queue-counts" });
  readonly livePill = el(
    "span",
    { class: "pill", "data-testid": "caselist-live", "data-live": "off", title: "Live updates" },
    "live",
  );
  private live: LiveSocket | null = null;
  private counts: QueueCounts | null = null;
  private confirmTimer = 0;
  cursor: RowCursor | null = null;

  constructor(
    private readonly project: string,
    private readonly canPrelabel: boolean,
  ) {}

  mount(root: HTMLElement, table: HTMLTableElement): void {
    const trs = [...table.querySelectorAll<HTMLTableRowElement>("tr[data-testid=case-row]")];
    this.addColumns(table, trs);
    if (this.canPrelabel) {
      this.prelabelSelected.addEventListener("click", () => void this.requestSelected());
      this.prelabelAll.addEventListener("click", () => this.onPrelabelAll());
      this.selectAll.addEventListener("change", () => {
        for (const r of this.rows.values()) if (r.box) r.box.checked = this.selectAll.checked;
        this.onSelection();
      });
      this.toolbar.append(this.prelabelSelected, this.prelabelAll);
    }
    this.toolbar.append(el("span", { class: "spacer" }), this.queueCounts, this.summary, this.livePill);
    root.append(this.toolbar);
    this.live = new LiveSocket(
      `/ws/projects/${encodeURIComponent(this.project)}/`,
      (e) => this.onLive(e),
      (on) => {
        this.livePill.dataset.live = on ? "on" : "off";
        this.livePill.title = on ? "Live updates connected" : "Live updates reconnecting";
      },
    );
    void this.loadJobs();
    void this.loadCounts();
    this.cursor = new RowCursor(trs);
    this.cursor.install(document);
    showRelativeTimes(table);
    window.setInterval(() => showRelativeTimes(table), 60_000);
  }

  private async loadCounts(): Promise<void> {
    try {
      this.showCounts(await getJSON<QueueCounts>(`/api/projects/${encodeURIComponent(this.project)}/queue/counts`));
    } catch {
      /* the list works without its counts */
    }
  }

  /** A live change of the counts (cases moved between states, claims taken or ended). */
  applyDelta(delta: Partial<QueueCounts>): void {
    const counts = this.counts;
    if (!counts) return; // the GET answers with the change already in
    for (const key of ["states", "claimed"] as const) {
      for (const [name, step] of Object.entries(delta[key] ?? {})) {
        counts[key][name] = Math.max(0, (counts[key][name] ?? 0) + step);
      }
    }
    this.showCounts(counts);
  }

  showCounts(counts: QueueCounts): void {
    this.counts = counts;
    const s = counts.states;
    const claimed = Object.values(counts.claimed).reduce((a, b) => a + b, 0);
    const waiting = (s.new ?? 0) + (s.prelabelled ?? 0) + (s.returned ?? 0);
    this.queueCounts.textContent =
      `${waiting} to annotate · ${s.submitted ?? 0} to review · ${s.in_review ?? 0} in review · ` +
      `${s.gold ?? 0} gold · ${claimed} claimed`;
    for (const [state, n] of Object.entries(s)) this.queueCounts.dataset[`state_${state}`] = String(n);
    this.queueCounts.dataset.claimed = String(claimed);
  }

  private addColumns(table: HTMLTableElement, trs: HTMLTableRowElement[]): void {
    const head = table.tHead?.rows[0] ?? null;
    let stateCol = -1;
    for (const tr of trs) {
      const id = Number(tr.dataset.caseId);
      if (!Number.isInteger(id)) continue;
      const state = tr.querySelector<HTMLElement>(`[data-testid=case-state-${id}]`);
      const cell = state?.closest("td") ?? null;
      if (cell && stateCol < 0) stateCol = cell.cellIndex;
      const job = el("span", { class: "job-badge", "data-testid": `job-${id}`, "data-status": "none" });
      // The server's pre-label cell (the model read) takes the job badge (a job under way).
      const prelabelCell = tr.querySelector<HTMLTableCellElement>("td.prelabel-cell");
      if (prelabelCell) prelabelCell.append(job);
      else if (cell) cell.after(el("td", { class: "job-cell" }, job));
      else tr.append(el("td", { class: "job-cell" }, job));
      let box: HTMLInputElement | null = null;
      if (this.canPrelabel) {
        box = el("input", { type: "checkbox", "data-testid": `select-case-${id}`, "aria-label": "Select this case" });
        box.addEventListener("change", () => this.onSelection());
        tr.prepend(el("td", { class: "select" }, box));
      }
      this.rows.set(id, { id, tr, state, job, box });
    }
    if (head && trs.length) {
      if (!head.querySelector("th.prelabel-col")) {
        const th = el("th", { class: "job-cell" }, "Pre-label");
        head.insertBefore(th, head.cells[stateCol >= 0 ? stateCol + 1 : head.cells.length] ?? null);
      }
      if (this.canPrelabel) head.prepend(el("th", { class: "select" }, this.selectAll));
    }
  }

  selectedIds(): number[] {
    return [...this.rows.values()].filter((r) => r.box?.checked).map((r) => r.id);
  }

  private onSelection(): void {
    const n = this.selectedIds().length;
    this.prelabelSelected.disabled = n === 0;
    this.prelabelSelected.textContent = n ? `Pre-label selected (${n})` : "Pre-label selected";
    this.selectAll.checked = n > 0 && n === this.rows.size;
    this.selectAll.indeterminate = n > 0 && n < this.rows.size;
    for (const r of this.rows.values()) r.tr.classList.toggle("selected", Boolean(r.box?.checked));
  }

  private async requestSelected(): Promise<void> {
    const ids = this.selectedIds();
    if (!ids.length) return;
    if (await this.request({ cases: ids })) {
      for (const r of this.rows.values()) if (r.box) r.box.checked = false;
      this.onSelection();
    }
  }

  private onPrelabelAll(): void {
    if (!this.prelabelAll.classList.contains("confirm")) {
      // A second click confirms: queuing a job for every case is expensive to undo.
      this.prelabelAll.classList.add("confirm");
      this.prelabelAll.textContent = "Click again: pre-label every case";
      window.clearTimeout(this.confirmTimer);
      this.confirmTimer = window.setTimeout(() => this.resetAll(), CONFIRM_MS);
      return;
    }
    this.resetAll();
    void this.request({});
  }

  private resetAll(): void {
    window.clearTimeout(this.confirmTimer);
    this.prelabelAll.classList.remove("confirm");
    this.prelabelAll.textContent = "Pre-label all";
  }

  private async request(body: { cases?: number[] }): Promise<boolean> {
    this.prelabelSelected.disabled = true;
    this.prelabelAll.disabled = true;
    try {
      const res = await postJSON<{ jobs: unknown[] }>(
        `/api/projects/${encodeURIComponent(this.project)}/prelabel`,
        body,
      );
      const jobs = (res.jobs ?? []).map(parseJob).filter((j): j is JobInfo => j !== null);
      for (const j of jobs) this.apply(j);
      toast(
        jobs.length ? `Queued ${jobs.length} pre-label job${jobs.length === 1 ? "" : "s"}` : "No case to pre-label",
      );
      return true;
    } catch (e) {
      toast(`Pre-label refused: ${e instanceof ApiError ? e.message : String(e)}`, "error", 6000);
      return false;
    } finally {
      this.prelabelAll.disabled = false;
      this.onSelection();
    }
  }

  /** The running, queued or failed job of each listed case, in one request (the socket is
   * already open: nothing is missed). */
  private async loadJobs(): Promise<void> {
    const ids = [...this.rows.keys()];
    if (!ids.length) return;
    try {
      const byCase = await getJSON<Record<string, unknown>>(
        `/api/projects/${encodeURIComponent(this.project)}/jobs?cases=${ids.join(",")}`,
      );
      for (const raw of Object.values(byCase)) {
        const job = parseJob(raw);
        const latest = job ? latestToShow([job]) : null;
        if (latest) this.apply(latest);
      }
    } catch {
      /* rows without their job are still usable rows */
    }
  }

  private onLive(e: LiveEvent): void {
    if (e.type === RECONNECTED) {
      void this.loadJobs(); // events sent while the socket was down are lost
      void this.loadCounts();
    } else if (e.type === DENIED) {
      this.livePill.title = "Live updates stopped: you have no access to this project any more";
      toast("You no longer have access to this project; reload the page", "error", 10000);
    } else if (e.type === "job.progress") {
      const job = parseJob(e.job);
      if (job) this.apply(job);
    } else if (e.type === "case.state_changed" && typeof e.case === "number" && typeof e.state === "string") {
      this.setState(e.case, e.state);
    } else if (e.type === "gold.signed" && typeof e.case === "number") {
      this.setState(e.case, "gold");
    } else if (e.type === "queue.changed" && e.delta && typeof e.delta === "object") {
      this.applyDelta(e.delta);
    } else if (e.type === "claim.changed" && typeof e.case === "number") {
      const row = this.rows.get(e.case);
      // The socket does not say who: only that the case is taken (or free again).
      if (row) row.tr.dataset.claimed = String(e.action === "claimed");
    }
  }

  apply(job: JobInfo): void {
    if (!this.board.apply(job)) return;
    const row = this.rows.get(job.case);
    if (row) renderBadge(row.job, job);
    this.summary.textContent = jobSummary([...this.rows.keys()].map((id) => this.board.get(id)));
  }

  setState(caseId: number, state: string): void {
    const badge = this.rows.get(caseId)?.state;
    if (!badge || badge.textContent === state) return;
    badge.textContent = state;
    badge.className = `state state-${state} changed`;
    window.setTimeout(() => badge.classList.remove("changed"), 1500);
  }

  close(): void {
    this.live?.close();
  }
}

function renderBadge(node: HTMLElement, job: JobInfo): void {
  node.dataset.status = job.status;
  node.title = job.status === "failed" ? job.error : job.message;
  node.replaceChildren(el("span", { class: "job-text" }, jobText(job, { message: job.status === "succeeded" })));
  if (job.status === "running" || job.status === "queued") {
    const fill = el("span", { class: "job-bar-fill" });
    fill.style.width = `${job.status === "running" ? percent(job.progress) : 0}%`;
    node.append(el("span", { class: "job-bar" }, fill));
  }
  if (job.status === "failed" && job.error) node.append(el("span", { class: "job-reason" }, job.error));
}

export function mountCaseList(root: HTMLElement): CaseList | null {
  const table = document.querySelector<HTMLTableElement>("table[data-testid=case-table]");
  const project = root.dataset.project ?? "";
  if (!table || !project) return null;
  // The server states the right (annotation/permissions.py); the page does not infer it from role names.
  const list = new CaseList(project, root.dataset.mayPrelabel !== undefined);
  list.mount(root, table);
  return list;
}
