/** Pre-label on the case page: the request button and the live job status (progress, message, reason of a failure). */

import { ApiError, getJSON, postJSON } from "../../api/client";
import type { JobInfo } from "../../contract/types";
import { isNewer, isTerminal, jobText, latestToShow, parseJob, percent } from "../../core/jobs";
import { el, toast } from "../ui";

export { JobBoard, jobText, parseJob } from "../../core/jobs";

/** While the live socket is down, an active job is polled at this interval (ms). */
const POLL_MS = 4000;

export interface JobPanelOptions {
  caseId: number;
  /** Whether this user may ask for pre-labels (every role but `reader`). */
  canRequest: boolean;
  /** Show the model read a job wrote. */
  openRead: (readId: number) => Promise<void>;
  /** A job wrote a model read: list it (the `revision.saved` event may be filtered or late). */
  onSucceeded: (job: JobInfo) => void;
  /** Whether the live socket is connected (else an active job is polled). */
  live: () => boolean;
}

export class JobPanel {
  readonly root: HTMLElement;
  readonly button = el(
    "button",
    {
      class: "primary",
      "data-testid": "prelabel-button",
      title: "Run the active models on this case: their shapes arrive as a model read",
    },
    "Pre-label",
  );
  readonly chip = el("span", {
    class: "pill job-chip",
    "data-testid": "job-status",
    "data-status": "none",
    hidden: true,
  });
  readonly bar = el("span", { class: "job-bar-fill" });
  readonly progress = el(
    "div",
    {
      class: "job-bar",
      "data-testid": "job-progress",
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      hidden: true,
    },
    this.bar,
  );
  readonly error = el("div", { class: "job-error", "data-testid": "job-error", role: "alert", hidden: true });
  readonly openButton = el("button", { "data-testid": "job-open-read", hidden: true }, "Show model read");
  job: JobInfo | null = null;
  private poll = 0;

  constructor(private readonly opts: JobPanelOptions) {
    this.button.hidden = !opts.canRequest;
    this.button.addEventListener("click", () => void this.request());
    this.openButton.addEventListener("click", () => {
      const read = this.job?.read;
      if (typeof read === "number") void opts.openRead(read);
    });
    this.root = el(
      "div",
      { class: "job-panel", "data-testid": "prelabel-panel" },
      el("div", { class: "job-actions" }, this.button, this.openButton),
      el("div", { class: "job-line" }, this.chip),
      this.progress,
      this.error,
    );
    if (!opts.canRequest) this.root.hidden = true;
  }

  /** The case's latest job, when it is still queued or running, or failed (its reason stays visible). */
  async loadLatest(): Promise<void> {
    try {
      const jobs = (await getJSON<unknown[]>(`/api/cases/${this.opts.caseId}/jobs`))
        .map(parseJob)
        .filter((j): j is JobInfo => j !== null);
      const latest = latestToShow(jobs);
      if (latest) this.apply(latest);
    } catch {
      /* an older server without the job list: the panel starts empty */
    }
  }

  async request(): Promise<void> {
    this.button.disabled = true;
    try {
      const res = await postJSON<{ job: unknown }>(`/api/cases/${this.opts.caseId}/prelabel`, {});
      const job = parseJob(res.job);
      if (job) this.apply(job);
    } catch (e) {
      toast(`Pre-label refused: ${e instanceof ApiError ? e.message : String(e)}`, "error", 6000);
    } finally {
      this.button.disabled = this.job !== null && !isTerminal(this.job.status);
    }
  }

  /** A job from the API or a `job.progress` event; events of other cases and stale updates are ignored. */
  apply(raw: unknown): void {
    const job = parseJob(raw);
    if (!job || job.case !== this.opts.caseId || !isNewer(this.job, job)) return;
    const before = this.job;
    this.job = job;
    this.render(job);
    if (job.status === "succeeded" && !(before?.id === job.id && before.status === "succeeded")) {
      this.opts.onSucceeded(job);
      if (before) toast(`Pre-label done: ${job.message || "model read added"}`);
    }
    if (job.status === "failed" && before && before.status !== "failed") toast("Pre-label failed", "error");
    this.schedulePoll();
  }

  private render(job: JobInfo): void {
    this.root.hidden = false;
    this.chip.hidden = false;
    this.chip.dataset.status = job.status;
    this.chip.textContent = jobText(job);
    this.chip.title = job.status === "failed" ? job.error : job.message;
    const active = !isTerminal(job.status);
    this.progress.hidden = !active;
    const pct = job.status === "queued" ? 0 : percent(job.progress);
    this.bar.style.width = `${pct}%`;
    this.progress.setAttribute("aria-valuenow", String(pct));
    this.error.hidden = job.status !== "failed";
    this.error.textContent = job.status === "failed" ? job.error || "The job failed without a reason." : "";
    this.openButton.hidden = !(job.status === "succeeded" && job.read !== null);
    this.button.disabled = active;
    this.button.textContent = job.status === "failed" ? "Retry pre-label" : "Pre-label";
  }

  /** Without the live socket, nothing would move: ask the server while a job is active. */
  private schedulePoll(): void {
    window.clearTimeout(this.poll);
    const job = this.job;
    if (!job || isTerminal(job.status)) return;
    this.poll = window.setTimeout(() => {
      if (this.opts.live()) return this.schedulePoll();
      void getJSON<unknown>(`/api/jobs/${job.id}`)
        .then((j) => this.apply({ case: job.case, ...(j as object) }))
        .catch(() => undefined)
        .finally(() => this.schedulePoll());
    }, POLL_MS);
  }
}
