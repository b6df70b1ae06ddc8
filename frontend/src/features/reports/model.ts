/** Pure logic of the study-report page: the list of report jobs kept up to date by live events. */

export interface ReportJob {
  id: number;
  split: string;
  status: "queued" | "running" | "succeeded" | "failed";
  progress: number;
  stage: string;
  reason: string;
  requested_by: string | null;
  created_at: string;
  finished_at: string | null;
  html_url: string | null;
  csv_url: string | null;
}

/** A `report.progress` event as the server sends it on the project socket. */
export interface ReportProgress {
  report: number;
  status: ReportJob["status"];
  progress: number;
  stage: string;
  reason: string;
}

/** The list with the event applied: a known job changes in place; an unknown one is left for
 * the next reload (the event does not carry the whole job). Newest first, as the API lists. */
export function applyProgress(jobs: readonly ReportJob[], event: ReportProgress): ReportJob[] {
  return jobs.map((job) =>
    job.id === event.report
      ? { ...job, status: event.status, progress: event.progress, stage: event.stage, reason: event.reason }
      : job,
  );
}

/** Whether the event names a job the page does not list yet (then it reloads the list). */
export function isUnknown(jobs: readonly ReportJob[], event: ReportProgress): boolean {
  return !jobs.some((job) => job.id === event.report);
}

/** What the status cell says. */
export function statusText(job: ReportJob): string {
  switch (job.status) {
    case "queued":
      return "Queued";
    case "running":
      return `${Math.round(job.progress * 100)} %: ${job.stage}`;
    case "succeeded":
      return "Ready";
    case "failed":
      return `Failed: ${job.reason}`;
  }
}
