/** Exports as /api/projects/{slug}/exports and /api/exports/{id} answer them (docs/API.md, "Exports"). */

export type ExportStatus = "queued" | "running" | "succeeded" | "failed";
export type SelectionKind = "gold" | "group" | "annotator" | "model";

export interface ExportJob {
  id: number;
  split: string;
  selection: { kind: SelectionKind; value: string };
  formats: string[];
  status: ExportStatus;
  progress: number;
  cases_total: number;
  cases_done: number;
  reason: string;
  size_bytes: number;
  created_by: string;
  created_at: string;
  finished_at: string | null;
  expires_at: string | null;
  download: string | null;
}

/** What the live `export.progress` event carries about a job. */
export interface ExportProgress {
  id: number;
  status: ExportStatus;
  progress: number;
  cases_total: number;
  cases_done: number;
  reason: string;
  expires_at: string | null;
}

export interface Choice {
  value: string;
  label: string;
}

/** The page's choices (the template's json_script "export-choices"). */
export interface ExportChoices {
  project: string;
  splits: Choice[];
  groups: Choice[];
  people: Choice[];
  models: Choice[];
  formats: Choice[];
}

export interface ExportForm {
  split: string;
  kind: SelectionKind;
  value: string;
  formats: string[];
}

export interface ExportBody {
  split: string;
  selection: { kind: SelectionKind; value: string };
  formats: string[];
}

/** The request body, or a message saying what is missing before anything is sent. */
export function requestBody(form: ExportForm): ExportBody | string {
  if (form.formats.length === 0) return "Choose at least one format.";
  if (form.kind !== "gold" && !form.value) {
    const what = { group: "a reader group", annotator: "an annotator", model: "a model version" }[form.kind];
    return `Choose ${what}.`;
  }
  return {
    split: form.split,
    selection: { kind: form.kind, value: form.kind === "gold" ? "" : form.value },
    formats: [...new Set(form.formats)],
  };
}

/** A live event's news merged into the listed job (a job not listed yet is left to a refetch). */
export function applyProgress(jobs: ExportJob[], event: ExportProgress): { jobs: ExportJob[]; known: boolean } {
  let known = false;
  const next = jobs.map((job) => {
    if (job.id !== event.id) return job;
    known = true;
    return { ...job, ...event };
  });
  return { jobs: next, known };
}

/** "42 %" while running, the outcome otherwise. */
export function statusText(job: ExportJob, now: Date = new Date()): string {
  switch (job.status) {
    case "queued":
      return "queued";
    case "running":
      return `running ${Math.round(job.progress * 100)} % (${job.cases_done} of ${casesText(job.cases_total)})`;
    case "failed":
      return `failed: ${job.reason}`;
    case "succeeded":
      if (job.expires_at && new Date(job.expires_at) <= now) return "expired: export again";
      return `ready (${casesText(job.cases_total)}, ${sizeText(job.size_bytes)})`;
  }
}

export function casesText(count: number): string {
  return `${count} case${count === 1 ? "" : "s"}`;
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** What was exported, in words: "gold, test split" or "annotator group, every split". */
export function selectionText(job: ExportJob, choices: ExportChoices): string {
  const pick = (list: Choice[]): string =>
    list.find((c) => c.value === job.selection.value)?.label ?? job.selection.value;
  const what = {
    gold: "gold standard",
    group: `${pick(choices.groups)} group`,
    annotator: pick(choices.people),
    model: pick(choices.models),
  }[job.selection.kind];
  return `${what}, ${job.split ? `${job.split} split` : "every split"}`;
}
