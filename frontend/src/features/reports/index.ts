/** The study-report page: request a report for a split, watch its progress live on the
 * project socket, and download the HTML and CSV when it is ready. */
import { getJSON, postJSON } from "../../api/client";
import { LiveSocket, RECONNECTED, type LiveEvent } from "../../api/live";
import { clear, el } from "../ui";
import { applyProgress, isUnknown, statusText, type ReportJob, type ReportProgress } from "./model";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function row(job: ReportJob): HTMLTableRowElement {
  const files = el("td", {});
  if (job.status === "succeeded" && job.html_url && job.csv_url) {
    files.append(
      el("a", { href: job.html_url, target: "_blank", rel: "noopener" }, "HTML"),
      " · ",
      el("a", { href: job.csv_url }, "CSV"),
    );
  }
  return el(
    "tr",
    { "data-report": String(job.id), "data-status": job.status },
    el("td", {}, String(job.id)),
    el("td", {}, new Date(job.created_at).toLocaleString()),
    el("td", {}, job.requested_by ?? "—"),
    el("td", {}, job.split),
    el("td", { "data-testid": "report-status" }, statusText(job)),
    files,
  );
}

export function mountReportsPage(form: HTMLFormElement, list: HTMLTableElement): void {
  const slug = form.dataset.project ?? "";
  const base = `/api/projects/${slug}/reports`;
  const body = list.tBodies[0] ?? list.createTBody();
  const status = form.querySelector<HTMLElement>("[data-testid=report-message]");
  let jobs: ReportJob[] = [];

  function render(): void {
    clear(body);
    body.append(...jobs.map(row));
  }

  function say(text: string): void {
    if (status) status.textContent = text;
  }

  async function load(): Promise<void> {
    jobs = await getJSON<ReportJob[]>(`${base}?limit=50`);
    render();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const split = new FormData(form).get("split");
    say("Requesting…");
    postJSON<ReportJob>(base, { split })
      .then((job) => {
        jobs = [job, ...jobs.filter((j) => j.id !== job.id)];
        render();
        say(`Report ${job.id} queued`);
      })
      .catch((e: unknown) => say(message(e)));
  });

  new LiveSocket(`/ws/projects/${slug}/`, (event: LiveEvent) => {
    if (event.type === RECONNECTED) void load().catch((e: unknown) => say(message(e)));
    if (event.type !== "report.progress") return;
    const progress = event as unknown as ReportProgress;
    if (progress.status === "succeeded") say(`Report ${String(progress.report)} is ready`);
    if (progress.status === "failed") say(`Report ${String(progress.report)} failed: ${progress.reason}`);
    if (isUnknown(jobs, progress) || progress.status === "succeeded") {
      // A finished job's file links come with the job itself.
      void load().catch((e: unknown) => say(message(e)));
      return;
    }
    jobs = applyProgress(jobs, progress);
    render();
  });
  void load().catch((e: unknown) => say(message(e)));
}
