/** Pre-label jobs as the pages show them: parsing `job.progress` events, ordering updates, chip text. */

import type { JobInfo, JobStatus } from "../../contract/types";

export const JOB_STATUSES: readonly JobStatus[] = ["queued", "running", "succeeded", "failed"];

export function isJobStatus(x: unknown): x is JobStatus {
  return typeof x === "string" && (JOB_STATUSES as readonly string[]).includes(x);
}

export function isTerminal(status: JobStatus): boolean {
  return status === "succeeded" || status === "failed";
}

/** A job from an API reply or a live event, or null when it is not one (a malformed frame is ignored). */
export function parseJob(x: unknown): JobInfo | null {
  if (!x || typeof x !== "object") return null;
  const o = x as Record<string, unknown>;
  if (typeof o.id !== "number" || typeof o.case !== "number" || !isJobStatus(o.status)) return null;
  const progress =
    typeof o.progress === "number" && Number.isFinite(o.progress) ? Math.min(1, Math.max(0, o.progress)) : 0;
  return {
    id: o.id,
    case: o.case,
    status: o.status,
    progress,
    message: typeof o.message === "string" ? o.message : "",
    error: typeof o.error === "string" ? o.error : "",
    read: typeof o.read === "number" ? o.read : null,
    attempts: typeof o.attempts === "number" ? o.attempts : 0,
    created_at: typeof o.created_at === "string" ? o.created_at : null,
    finished_at: typeof o.finished_at === "string" ? o.finished_at : null,
  };
}

/**
 * Whether `next` should replace `prev` as the job shown for a case. A newer job (higher id) always
 * wins. For the same job, the page's first `GET …/jobs` can answer after a live event, so an update
 * that goes back from a finished run to an unfinished one of the same attempt is stale and dropped;
 * a retry (more attempts) is not stale.
 */
export function isNewer(prev: JobInfo | null | undefined, next: JobInfo): boolean {
  if (!prev) return true;
  if (next.id !== prev.id) return next.id > prev.id;
  const a = prev.attempts ?? 0;
  const b = next.attempts ?? 0;
  if (a !== b) return b > a;
  if (isTerminal(prev.status) && !isTerminal(next.status)) return false;
  if (prev.status === "running" && next.status === "running") return next.progress >= prev.progress;
  return true;
}

/** The job a page shows on load from `GET /api/cases/{id}/jobs` (newest first): the latest, unless it
 * succeeded (then the model read and the case state say it all). */
export function latestToShow(jobs: readonly JobInfo[]): JobInfo | null {
  let latest: JobInfo | null = null;
  for (const j of jobs) if (!latest || j.id > latest.id) latest = j;
  return latest && latest.status !== "succeeded" ? latest : null;
}

export function percent(progress: number): number {
  return Math.round(Math.min(1, Math.max(0, Number.isFinite(progress) ? progress : 0)) * 100);
}

const STATUS_TEXT: Record<JobStatus, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Done",
  failed: "Failed",
};

/** One line for a chip or a list badge: "Running 50 % · sagittal series predicted", "Done · 12 shapes". */
export function jobText(job: JobInfo, { message = true }: { message?: boolean } = {}): string {
  const head = job.status === "running" ? `${STATUS_TEXT.running} ${percent(job.progress)} %` : STATUS_TEXT[job.status];
  const detail = job.status === "failed" ? "" : job.message.trim();
  return message && detail ? `${head} · ${detail}` : head;
}

/** The latest job of each case, fed by API replies and live events in any order. */
export class JobBoard {
  private readonly jobs = new Map<number, JobInfo>();

  /** Record `job`; true when it changed what the case shows. */
  apply(job: JobInfo): boolean {
    if (!isNewer(this.jobs.get(job.case), job)) return false;
    this.jobs.set(job.case, job);
    return true;
  }

  get(caseId: number): JobInfo | undefined {
    return this.jobs.get(caseId);
  }

  /** Cases with a job still queued or running. */
  active(): number[] {
    return [...this.jobs.values()].filter((j) => !isTerminal(j.status)).map((j) => j.case);
  }
}

/** "2 running · 1 queued · 1 failed" over the given jobs (finished successes are not counted). */
export function jobSummary(jobs: Iterable<JobInfo | undefined>): string {
  const counts: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0 };
  for (const j of jobs) if (j) counts[j.status] += 1;
  const parts: string[] = [];
  if (counts.running) parts.push(`${counts.running} running`);
  if (counts.queued) parts.push(`${counts.queued} queued`);
  if (counts.failed) parts.push(`${counts.failed} failed`);
  return parts.join(" · ");
}
