/** The dashboards' filters (split, date range), kept in the page's URL so that a view can be shared and reloaded. */

export interface Filters {
  split: string;
  from: string;
  to: string;
}

export const SPLITS = ["", "train", "tune", "test"] as const;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The filters of a query string; an unknown split or a malformed date is dropped (the page shows all). */
export function parseFilters(search: string): Filters {
  const q = new URLSearchParams(search);
  const split = q.get("split") ?? "";
  const from = q.get("from") ?? "";
  const to = q.get("to") ?? "";
  return {
    split: (SPLITS as readonly string[]).includes(split) ? split : "",
    from: DATE.test(from) ? from : "",
    to: DATE.test(to) ? to : "",
  };
}

/** "?split=test&from=2026-01-01" (empty filters left out; "" when none is set). */
export function filterQuery(f: Filters): string {
  const q = new URLSearchParams();
  if (f.split) q.set("split", f.split);
  if (f.from) q.set("from", f.from);
  if (f.to) q.set("to", f.to);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Why a filter combination cannot be asked for, or null. */
export function filterProblem(f: Filters): string | null {
  if (f.from && f.to && f.from > f.to) return "The start date is after the end date.";
  return null;
}
