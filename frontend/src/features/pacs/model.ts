/** PACS page: the shapes of docs/API.md "PACS (DICOMweb)" and the pure helpers the page uses. */

export interface PacsConnection {
  configured: boolean;
  base_url?: string;
  username?: string;
  has_password?: boolean;
  timeout_s?: number;
}

export interface PacsSeries {
  uid: string;
  number: number | null;
  description: string;
  modality: string;
  instances: number;
}

export interface PacsStudy {
  uid: string;
  patient_name: string;
  patient_id: string;
  patient_birth_date: string;
  study_date: string;
  accession_number: string;
  description: string;
  modalities: string[];
  instances: number;
  series: PacsSeries[];
  imported_as: string | null;
}

export type ImportStatus = "queued" | "running" | "succeeded" | "partial" | "failed";

export interface PacsImport {
  id: number;
  status: ImportStatus;
  studies: number;
  instances_total: number;
  instances_done: number;
  cases: string[];
  series: number;
  images: number;
  skipped: { file: string; reason: string }[];
  notes: string[];
  errors: string[];
  attempts: number;
  created_at: string | null;
  finished_at: string | null;
}

export interface SearchFields {
  accession_number: string;
  date_from: string;
  date_to: string;
  modality: string;
  series_description: string;
}

/** The search's query string: only the fields given, trimmed. */
export function searchQuery(fields: SearchFields): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields) as [keyof SearchFields, string][]) {
    const v = value.trim();
    if (v) params.set(key, v);
  }
  return params.toString();
}

/** A DICOM date (YYYYMMDD) as YYYY-MM-DD; anything else unchanged. */
export function dicomDate(value: string): string {
  return /^\d{8}$/.test(value) ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6)}` : value;
}

/** One line saying where an import stands. */
export function progressText(job: PacsImport): string {
  const fetched = `${job.instances_done} of ${job.instances_total} instances fetched`;
  switch (job.status) {
    case "queued":
      return "Queued";
    case "running":
      return job.instances_total ? `Running: ${fetched}` : "Running: asking the PACS";
    case "succeeded":
      return `Imported ${job.images} images in ${job.series} series (${job.cases.length} cases)`;
    case "partial":
      return `Partly imported: ${job.images} images in ${job.series} series; retry for the rest`;
    case "failed":
      return "Nothing imported";
  }
}

export function retryable(job: PacsImport): boolean {
  return job.status === "failed" || job.status === "partial";
}

/** The list with one import replaced (or added at the top), newest first. */
export function upsertImport(list: PacsImport[], job: PacsImport): PacsImport[] {
  const rest = list.filter((j) => j.id !== job.id);
  return [job, ...rest].sort((a, b) => b.id - a.id);
}
