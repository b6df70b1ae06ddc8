/** Types of the HTTP/WebSocket contract in docs/API.md (shared by the pure layer and the pages). */

export type Dtype = "uint8" | "uint16" | "int16" | "float32";
export type Orientation = "sagittal" | "axial" | "coronal" | "other";
export type ShapeType = "polygon" | "rectangle" | "point" | "line" | "linestrip" | "circle" | "mask";
export type Role = "annotator" | "reader" | "reviewer" | "lead";
export type Point = [number, number];

/** A labelme shape; unknown keys are kept as they came. */
export interface Shape {
  label: string;
  points: Point[];
  group_id: number | null;
  description: string;
  shape_type: ShapeType;
  flags: Record<string, boolean>;
  mask?: string | null;
  [key: string]: unknown;
}

/** Shapes of a revision, keyed by image id (as a string, JSON object keys). */
export type ShapesByImage = Record<string, Shape[]>;
export type CaseFields = Record<string, unknown>;

export interface LabelDef {
  name: string;
  color: string;
  shape_types: ShapeType[];
  hotkey?: string;
  views?: Orientation[];
}

export interface KeypointSetDef {
  name: string;
  view?: Orientation;
  color?: string;
  points: string[];
}

export interface CaseFieldDef {
  name: string;
  type: "checkbox" | "choice" | "text";
  label?: string;
  choices?: string[];
}

export interface Template {
  name?: string;
  labels: LabelDef[];
  keypoint_sets?: KeypointSetDef[];
  case_fields?: CaseFieldDef[];
}

export interface ImageRef {
  id: number;
  index: number;
  position: number | null;
}

export interface SeriesInfo {
  id: number;
  uid?: string;
  number?: number | null;
  description: string;
  orientation: Orientation;
  modality?: string;
  source?: string;
  rows: number;
  columns: number;
  pixel_spacing: [number, number];
  spacing_known?: boolean;
  slice_thickness: number | null;
  slice_spacing: number | null;
  dtype: Dtype;
  window: { center: number; width: number } | null;
  row_direction?: number[] | null;
  column_direction?: number[] | null;
  images: ImageRef[];
}

export interface CaseInfo {
  id: number;
  pseudonym: string;
  state: string;
  split?: string | null;
  project: { slug: string; name: string; role: Role; template: Template };
  series: SeriesInfo[];
}

export interface UserRef {
  id: number;
  username: string;
}

export interface RevisionHead {
  id: number;
  number: number;
  created_at: string;
  author: UserRef | string | null;
}

export interface ReadInfo {
  id: number;
  kind: "human" | "model" | "imported" | "gold";
  name: string;
  author: UserRef | null;
  head: RevisionHead | null;
  revision_count: number;
  editable: boolean;
  revision?: Revision | null;
}

export interface Revision {
  id: number;
  read?: number;
  number: number;
  parent: number | null;
  author: UserRef | string | null;
  created_at: string;
  source?: string;
  shapes: ShapesByImage;
  case_fields: CaseFields;
  message?: string;
}

export interface RevisionSummary {
  id: number;
  number: number;
  parent: number | null;
  author: UserRef | string | null;
  created_at: string;
  source?: string;
  shape_count: number;
  message?: string;
}

export interface ShapeError {
  image: number | string;
  index: number;
  label?: string;
  message: string;
}

export interface Chord {
  name: string;
  points: [Point, Point];
}

export interface MeasurementResult {
  image: number | string;
  view: string;
  values: Record<string, unknown>;
  chords: Chord[];
  warnings: string[];
  /** What the shapes lack for a measurement ("keypoints C5_PS, C5_PI", "cord", "caliper d_b (for MSCC)"). */
  missing?: string[];
  /** How it was computed ("reference", "distance_mm", "extent_mm", …). */
  parameters?: Record<string, unknown>;
  algorithm_version?: string;
}

export type JobStatus = "queued" | "running" | "succeeded" | "failed";

/** A pre-label job (`JobOutputSerializer` of inference/serializers.py), as the API and `job.progress` events send it. */
export interface JobInfo {
  id: number;
  case: number;
  status: JobStatus;
  /** 0 … 1 */
  progress: number;
  message: string;
  /** Why the job failed (empty otherwise). */
  error: string;
  /** The model read the job wrote (succeeded jobs only). */
  read: number | null;
  attempts?: number;
  created_at?: string | null;
  finished_at?: string | null;
}

/** What one import did to one case: created it, added to it, or found the study already there. */
export interface ImportedCase {
  id: number;
  pseudonym: string;
  created: boolean;
  outcome?: "new" | "added" | "duplicate";
  series?: number;
  images?: number;
  reads?: number;
}

export interface ImportSummary {
  cases?: ImportedCase[];
  series?: number;
  images?: number;
  skipped?: { file: string; reason: string }[];
  detail?: string;
}
