/** The dashboard API (docs/API.md, "Dashboards"): progress and model agreement of a project, with filters. */

import { getJSON } from "../../api/client";
import type { Filters } from "./filters";
import { filterQuery } from "./filters";

export interface NotEnough {
  status: "not_enough_data";
  n?: number;
  message: string;
}

export type ByState = Record<string, number>;

export interface Forecast {
  status: "ok";
  finish_date: string;
  days: number;
}

export interface PersonProgress {
  user: number;
  username: string;
  role: string;
  reads: number;
  submitted: number;
  by_state: ByState;
  median_active_s: number | null;
  returned: number;
  returned_rate: number | null;
  claims_in_flight: number;
  per_day: { date: string; submitted: number }[];
}

export interface Progress {
  project: string;
  filters: { split: string | null; from: string | null; to: string | null };
  total: number;
  by_state: ByState;
  splits: { split: string; total: number; by_state: ByState; backlog: number }[];
  throughput: { date: string; submitted: number; signed: number }[];
  backlog: number;
  rate_per_day: number | null;
  forecast: Forecast | NotEnough;
  median_active_s: number | null;
  claims_in_flight: Record<string, number>;
  people: PersonProgress[];
}

export interface StatOk {
  status: "ok";
  n: number;
  mean: number;
  sd: number | null;
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
  histogram?: { edges: number[]; counts: number[] };
}
export type Stat = StatOk | NotEnough;

export interface Icc {
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value?: number | null;
  f?: number | null;
  df1?: number;
  df2?: number;
}

export interface BlandAltman {
  bias: number | null;
  sd: number | null;
  loa_low: number | null;
  loa_high: number | null;
  bias_ci?: [number, number] | null;
  loa_low_ci?: [number, number] | null;
  loa_high_ci?: [number, number] | null;
  points: [number, number][];
}

export interface MeasurementOk {
  status: "ok";
  n: number;
  icc2_1: Icc;
  icc3_1: Icc;
  bland_altman: BlandAltman;
  reference_mean?: number | null;
  reference_sd?: number | null;
  mean?: number | null;
  sd?: number | null;
}
export type MeasurementAgreement = MeasurementOk | NotEnough;

export interface Group {
  key: string;
  kind: "model" | "annotators" | "readers" | "inter_reader";
  label: string;
  model_version: { id: number; name: string; task: string; created_at: string } | null;
  n_cases: number;
  structures: Record<string, { dice: Stat; iou: Stat; hd95_mm: Stat }>;
  keypoints: { radial_error_mm: Stat; within_2mm: number | null; within_4mm: number | null; n_points: number };
  measurements: Record<string, MeasurementAgreement>;
  kappa?: Record<string, { status: "ok"; kappa: number | null; n: number } | NotEnough>;
}

export interface TrendPoint {
  model_version: number;
  label: string;
  created_at: string;
  n_cases: number;
  dice: Record<string, number | null>;
  mean_radial_error_mm: number | null;
  icc2_1: Record<string, number | null>;
}

export interface Agreement {
  project: string;
  filters: { split: string | null; from: string | null; to: string | null };
  n_gold: number;
  empty: NotEnough | null;
  structures: string[];
  measurements: string[];
  case_fields?: string[];
  groups: Group[];
  inter_reader: Group | null;
  trend: TrendPoint[];
}

export const dashboardApi = {
  progress: (slug: string, f: Filters) =>
    getJSON<Progress>(`/api/projects/${encodeURIComponent(slug)}/dashboard/progress${filterQuery(f)}`),
  agreement: (slug: string, f: Filters) =>
    getJSON<Agreement>(`/api/projects/${encodeURIComponent(slug)}/dashboard/agreement${filterQuery(f)}`),
};
