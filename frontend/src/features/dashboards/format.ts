/** Pure formatting of the dashboards' figures: never "NaN" or "undefined"; a missing figure is "—" and a figure
 * that cannot be computed says why ("not enough data (n = 1): needs …"). */

import type { Forecast, Icc, NotEnough, Stat } from "./api";

export const DASH = "—";

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** A number with `digits` decimals and an optional unit, or "—". */
export function fmt(v: unknown, digits = 2, unit = ""): string {
  if (!isFiniteNumber(v)) return DASH;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ""}`;
}

/** A share 0…1 as a percentage ("83 %"), or "—". */
export function percent(share: unknown, digits = 0): string {
  return isFiniteNumber(share) ? `${(share * 100).toFixed(digits)} %` : DASH;
}

/** Seconds as "45 s", "4 min 12 s", "1 h 03 min", or "—". */
export function duration(seconds: unknown): string {
  if (!isFiniteNumber(seconds) || seconds < 0) return DASH;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

export function notEnough(n: number, needs: string): NotEnough {
  return { status: "not_enough_data", n, message: `not enough data (n = ${n}): needs ${needs}` };
}

export function isNotEnough(v: unknown): v is NotEnough {
  return typeof v === "object" && v !== null && (v as { status?: unknown }).status === "not_enough_data";
}

/** "0.912 ± 0.034" (the SD left out when there is none), or the reason there is no figure. */
export function statText(stat: Stat | undefined, digits = 3, unit = ""): string {
  if (!stat) return DASH;
  if (isNotEnough(stat)) return stat.message || notEnough(stat.n ?? 0, "at least one case").message;
  const u = unit ? ` ${unit}` : "";
  if (!isFiniteNumber(stat.mean)) return DASH;
  return isFiniteNumber(stat.sd)
    ? `${stat.mean.toFixed(digits)} ± ${stat.sd.toFixed(digits)}${u}`
    : `${stat.mean.toFixed(digits)}${u}`;
}

/** "0.93 [0.85, 0.97]" or "—". */
export function iccText(icc: Icc | undefined | null): string {
  if (!icc || !isFiniteNumber(icc.value)) return DASH;
  const ci =
    isFiniteNumber(icc.ci_low) && isFiniteNumber(icc.ci_high) ? ` [${fmt(icc.ci_low)}, ${fmt(icc.ci_high)}]` : "";
  return `${fmt(icc.value)}${ci}`;
}

/** The forecast line of the progress page. */
export function forecastText(forecast: Forecast | NotEnough | undefined, backlog: number): string {
  if (backlog === 0) return "Every case is gold: nothing left.";
  if (!forecast) return DASH;
  if (isNotEnough(forecast)) return forecast.message;
  const days = isFiniteNumber(forecast.days) ? ` (in ${Math.ceil(forecast.days)} days)` : "";
  return `${forecast.finish_date}${days} at the current rate`;
}

const STATE_TITLES: Record<string, string> = {
  new: "New",
  prelabelled: "Pre-labelled",
  in_annotation: "In annotation",
  submitted: "Submitted",
  in_review: "In review",
  returned: "Returned",
  gold: "Gold",
};

export function stateTitle(state: string): string {
  return STATE_TITLES[state] ?? state.replace(/_/g, " ");
}

/** The workflow's states in order, then any other the server named. */
export function orderedStates(byState: Record<string, number>): string[] {
  const known = Object.keys(STATE_TITLES);
  return [...known, ...Object.keys(byState).filter((s) => !known.includes(s))];
}

/** Upper-case measurement names as the papers write them ("mscc" → "MSCC"). */
export function measurementTitle(m: string): string {
  return m.toUpperCase();
}
