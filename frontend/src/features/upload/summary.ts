/** The import summary: totals, one line per case saying what the import did to it (a
 * duplicate says so: "study already in CASE-0009: nothing new"), and the skipped files. */

import type { ImportedCase, ImportSummary } from "../../contract/types";
import { el } from "../ui";

export interface UploadResult {
  status: number;
  body: ImportSummary;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** What the import added, e.g. "1 series · 20 images · 1 read"; "" when nothing. */
function addedParts(c: ImportedCase): string {
  const parts: string[] = [];
  if (c.series) parts.push(`${c.series} series`);
  if (c.images) parts.push(plural(c.images, "image"));
  if (c.reads) parts.push(plural(c.reads, "read"));
  return parts.join(" · ");
}

/** Whether the import found the study already there (older servers: no outcome, no series). */
export function outcomeOf(c: ImportedCase): "new" | "added" | "duplicate" {
  if (c.outcome) return c.outcome;
  if (c.created) return "new";
  return c.series === 0 && c.images === 0 && !c.reads ? "duplicate" : "added";
}

/** One case's line: "new case: 1 series · 20 images", "added to the existing case: 1 series",
 * or "study already in CASE-0009: nothing new". */
export function caseOutcomeText(c: ImportedCase): string {
  const outcome = outcomeOf(c);
  const added = addedParts(c);
  if (outcome === "duplicate") return `study already in ${c.pseudonym}: nothing new`;
  if (outcome === "new") return added ? `new case: ${added}` : "new case";
  return `added to the existing ${c.pseudonym}: ${added || "new annotations"}`;
}

/** The heading: nothing imported, nothing new (duplicates only), or the summary. */
export function summaryHeading(results: UploadResult[], cases: ImportedCase[]): string {
  const failed = results.filter((r) => r.status >= 400 || r.status === 0);
  if (failed.length === results.length) return "Nothing was imported";
  if (cases.length && cases.every((c) => outcomeOf(c) === "duplicate"))
    return cases.length === 1 ? "Already imported: nothing new" : "All already imported: nothing new";
  return "Import summary";
}

export function renderSummary(root: HTMLElement, results: UploadResult[]): void {
  const cases = results.flatMap((r) => r.body.cases ?? []);
  const skipped = results.flatMap((r) => r.body.skipped ?? []);
  const series = results.reduce((n, r) => n + (r.body.series ?? 0), 0);
  const images = results.reduce((n, r) => n + (r.body.images ?? 0), 0);
  const failed = results.filter((r) => r.status >= 400 || r.status === 0);
  const fresh = cases.filter((c) => outcomeOf(c) === "new").length;
  const duplicates = cases.filter((c) => outcomeOf(c) === "duplicate").length;
  root.append(el("h2", { "data-testid": "summary-heading" }, summaryHeading(results, cases)));
  root.append(
    el(
      "div",
      { class: "stats" },
      el("div", { "data-testid": "summary-cases" }, el("b", {}, String(cases.length)), "cases"),
      el("div", { "data-testid": "summary-new-cases" }, el("b", {}, String(fresh)), "new"),
      el("div", { "data-testid": "summary-duplicates" }, el("b", {}, String(duplicates)), "already there"),
      el("div", { "data-testid": "summary-series" }, el("b", {}, String(series)), "series"),
      el("div", { "data-testid": "summary-images" }, el("b", {}, String(images)), "images"),
      el("div", { "data-testid": "summary-skipped" }, el("b", {}, String(skipped.length)), "files skipped"),
    ),
  );
  for (const f of failed)
    if (f.body.detail) root.append(el("p", { class: "message error", "data-testid": "upload-error" }, f.body.detail));
  if (cases.length) {
    const tb = el("tbody");
    for (const c of cases) {
      const outcome = outcomeOf(c);
      const badge = { new: "badge ok", added: "badge", duplicate: "badge dup" }[outcome];
      tb.append(
        el(
          "tr",
          { "data-testid": "summary-case", "data-outcome": outcome },
          el("td", {}, el("a", { href: `/cases/${c.id}/` }, c.pseudonym)),
          el("td", {}, el("span", { class: badge }, outcome === "duplicate" ? "duplicate" : outcome)),
          el("td", { "data-testid": "summary-case-text" }, caseOutcomeText(c)),
        ),
      );
    }
    root.append(
      el(
        "table",
        { "data-testid": "summary-case-table" },
        el("thead", {}, el("tr", {}, el("th", {}, "Case"), el("th", {}, ""), el("th", {}, "What this import did"))),
        tb,
      ),
    );
  }
  if (skipped.length) {
    root.append(el("h2", {}, "Skipped files"));
    const tb = el("tbody");
    for (const s of skipped)
      tb.append(el("tr", { "data-testid": "skipped-row" }, el("td", {}, s.file), el("td", {}, s.reason)));
    root.append(
      el(
        "table",
        { class: "skipped", "data-testid": "skipped-table" },
        el("thead", {}, el("tr", {}, el("th", {}, "File"), el("th", {}, "Reason"))),
        tb,
      ),
    );
  }
}
