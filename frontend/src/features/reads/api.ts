/** Read and revision calls of docs/API.md, mapped onto the autosave outcomes. */

import { ApiError, getAllPages, getJSON, NetworkError, postJSON } from "../../api/client";
import type { ReadInfo, Revision, RevisionSummary, ShapeError } from "../../contract/types";
import type { SaveOutcome, SavePayload } from "../../core/offline";

export function listReads(caseId: number): Promise<ReadInfo[]> {
  return getAllPages<ReadInfo>(`/api/cases/${caseId}/reads`);
}

export function myRead(caseId: number): Promise<ReadInfo> {
  return postJSON<ReadInfo>(`/api/cases/${caseId}/reads`, {});
}

export function getRead(readId: number): Promise<ReadInfo> {
  return getJSON<ReadInfo>(`/api/reads/${readId}`);
}

export function listRevisions(readId: number): Promise<RevisionSummary[]> {
  return getAllPages<RevisionSummary>(`/api/reads/${readId}/revisions`);
}

export function getRevision(id: number): Promise<Revision> {
  return getJSON<Revision>(`/api/revisions/${id}`);
}

function outcome(e: unknown): SaveOutcome {
  if (e instanceof ApiError) {
    const body = (e.body ?? {}) as { detail?: string; head?: Revision; errors?: ShapeError[] };
    if (e.status === 409 && body.head) return { kind: "conflict", head: body.head };
    if (e.status === 400) return { kind: "invalid", detail: body.detail ?? e.message, errors: body.errors ?? [] };
    if (e.status >= 500 || e.status === 0) return { kind: "network", message: e.message };
    return { kind: "invalid", detail: e.message, errors: [] };
  }
  if (e instanceof NetworkError) return { kind: "network", message: e.message };
  return { kind: "network", message: String(e) };
}

export async function saveRevision(readId: number, payload: SavePayload): Promise<SaveOutcome> {
  try {
    const rev = await postJSON<Revision>(`/api/reads/${readId}/revisions`, payload);
    return { kind: "saved", revision: { id: rev.id, number: rev.number } };
  } catch (e) {
    return outcome(e);
  }
}

export async function restoreRevision(
  readId: number,
  revision: number,
  parent: number | null,
): Promise<SaveOutcome & { rev?: Revision }> {
  try {
    const rev = await postJSON<Revision>(`/api/reads/${readId}/restore`, { revision, parent });
    return { kind: "saved", revision: { id: rev.id, number: rev.number }, rev };
  } catch (e) {
    return outcome(e);
  }
}
