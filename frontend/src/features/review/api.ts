/** The review API (docs/API.md, "Review and gold standard", "Comments"): payload, measurements, gold, comments. */

import { getAllPages, getJSON, postJSON } from "../../api/client";
import type { ReadInfo, Revision, UserRef } from "../../contract/types";

export interface Provenance {
  label: string;
  method: string;
  sources: { read: number; revision: number }[];
  parameters?: Record<string, unknown>;
}

export interface ReviewRead extends ReadInfo {
  key: string;
  colour: string;
  title: string;
  submitted_at: string | null;
  revision: Revision | null;
  provenance: Record<string, (Provenance | null)[]> | null;
}

export interface AreaAgreement {
  dice: number | null;
  hd95_mm: number | null;
  images: { both: number; only_a: number; only_b: number };
}

export interface KeypointAgreement {
  errors_mm: Record<string, number | null>;
  mean_mm: number | null;
  max_mm: number | null;
  missing: string[];
}

export type PairAgreement = { a: number; b: number } & Record<string, AreaAgreement | KeypointAgreement | number>;

export interface Signature {
  revision: number;
  signed_by: UserRef;
  signed_at: string;
}

export interface GoldState {
  read: number | null;
  head: number | null;
  signed: boolean;
  signature: Signature | null;
}

export interface ReviewPayload {
  case: { id: number; pseudonym: string; state: string; project: string };
  role: string;
  structures: string[];
  reads: ReviewRead[];
  gold: GoldState;
  agreement: PairAgreement[];
}

export interface MeasurementRow {
  image: number;
  view: string;
  values: Record<string, number | string | null>;
  warnings: string[];
  missing: string[];
}

export interface ReadMeasurements {
  read: number;
  revision: number | null;
  results: MeasurementRow[];
}

export interface Comment {
  id: number;
  case: number;
  parent: number | null;
  read: number | null;
  image: number | null;
  x: number | null;
  y: number | null;
  body: string;
  author: UserRef;
  created_at: string;
  resolved: boolean;
  resolved_by: UserRef | null;
  resolved_at: string | null;
  returned_with: number | null;
}

export type StructureChoice = { from: number } | { fuse: "majority" | "staple" | "mean"; reads: number[] };

export interface NewComment {
  body: string;
  read?: number | null;
  parent?: number | null;
  image?: number | null;
  x?: number | null;
  y?: number | null;
}

export const reviewApi = {
  payload: (caseId: number) => getJSON<ReviewPayload>(`/api/cases/${caseId}/review`),
  measurements: (caseId: number) => getJSON<{ reads: ReadMeasurements[] }>(`/api/cases/${caseId}/review/measurements`),
  openGold: (caseId: number) => postJSON<ReadInfo>(`/api/cases/${caseId}/gold`, {}),
  compose: (caseId: number, parent: number | null, structures: Record<string, StructureChoice>) =>
    postJSON<Revision>(`/api/cases/${caseId}/gold/compose`, { parent, structures }),
  sign: (caseId: number, revision: number) =>
    postJSON<Signature & { read: number; case_state: string }>(`/api/cases/${caseId}/gold/sign`, { revision }),
  giveBack: (caseId: number, reason: string, comments: NewComment[]) =>
    postJSON<{ transition: number; state: string; comments: Comment[] }>(`/api/cases/${caseId}/return`, {
      reason,
      comments,
    }),
  comments: (caseId: number) => getAllPages<Comment>(`/api/cases/${caseId}/comments`),
  comment: (caseId: number, c: NewComment) => postJSON<Comment>(`/api/cases/${caseId}/comments`, c),
  resolve: (caseId: number, id: number, resolved: boolean) =>
    postJSON<Comment>(`/api/cases/${caseId}/comments/${id}/resolve`, { resolved }),
};
