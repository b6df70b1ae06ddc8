/** Exports page: choose split, reads and formats; follow the progress live; download the zip. */

import { ApiError, getJSON, postJSON } from "../../api/client";
import { LiveSocket, RECONNECTED, type LiveEvent } from "../../api/live";
import { clear, el, toast } from "../ui";
import type { Choice, ExportChoices, ExportJob, ExportProgress, SelectionKind } from "./model";
import { applyProgress, requestBody, selectionText, statusText } from "./model";

export { applyProgress, requestBody, selectionText, sizeText, statusText } from "./model";
export type { ExportChoices, ExportJob } from "./model";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function options(select: HTMLSelectElement, choices: Choice[], empty?: string): void {
  clear(select);
  if (empty !== undefined) select.append(el("option", { value: "" }, empty));
  for (const c of choices) select.append(el("option", { value: c.value }, c.label));
}

class ExportsPage {
  private jobs: ExportJob[] = [];
  private readonly rows = el("tbody", { "data-testid": "export-rows" });
  private readonly split = el("select", { "data-testid": "export-split", "aria-label": "Split" });
  private readonly kind = el("select", { "data-testid": "export-kind", "aria-label": "Reads" });
  private readonly value = el("select", { "data-testid": "export-value", "aria-label": "Which" });
  private readonly status = el("span", { role: "status", "data-testid": "export-message" });
  private readonly formats: HTMLInputElement[] = [];
  private readonly url: string;

  constructor(
    private readonly root: HTMLElement,
    private readonly choices: ExportChoices,
  ) {
    this.url = `/api/projects/${encodeURIComponent(choices.project)}/exports`;
  }

  mount(): void {
    options(this.split, this.choices.splits, "every split");
    options(this.kind, [
      { value: "gold", label: "gold standard (signed)" },
      { value: "group", label: "a reader group" },
      { value: "annotator", label: "one annotator or reader" },
      { value: "model", label: "one model version" },
    ]);
    this.kind.addEventListener("change", () => this.refreshValues());
    this.refreshValues();
    const boxes = el(
      "fieldset",
      { class: "export-formats" },
      el("legend", {}, "Formats"),
      ...this.choices.formats.map((f) => {
        const box = el("input", { type: "checkbox", value: f.value, "data-testid": `export-format-${f.value}` });
        this.formats.push(box);
        return el("label", {}, box, ` ${f.label}`);
      }),
    );
    const submit = el("button", { type: "submit", class: "primary", "data-testid": "export-start" }, "Export");
    const form = el(
      "form",
      { class: "export-form", "data-testid": "export-form" },
      el("label", {}, "Split ", this.split),
      el("label", {}, "Reads ", this.kind),
      el("label", {}, " ", this.value),
      boxes,
      submit,
      this.status,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.start(submit);
    });
    const table = el(
      "table",
      { class: "export-list", "data-testid": "export-list" },
      el(
        "thead",
        {},
        el("tr", {}, ...["#", "Requested", "Reads", "Formats", "Status", ""].map((h) => el("th", {}, h))),
      ),
      this.rows,
    );
    this.root.append(form, table);
    void this.load();
    new LiveSocket(`/ws/projects/${encodeURIComponent(this.choices.project)}/`, (e) => this.onEvent(e));
  }

  private refreshValues(): void {
    const kind = this.kind.value as SelectionKind;
    const list = { gold: [], group: this.choices.groups, annotator: this.choices.people, model: this.choices.models }[
      kind
    ];
    options(this.value, list, kind === "gold" ? "" : "choose…");
    this.value.hidden = kind === "gold";
  }

  private async load(): Promise<void> {
    try {
      this.jobs = await getJSON<ExportJob[]>(this.url);
      this.render();
    } catch (e) {
      toast(`Exports could not be loaded: ${message(e)}`, "error");
    }
  }

  private async start(button: HTMLButtonElement): Promise<void> {
    const body = requestBody({
      split: this.split.value,
      kind: this.kind.value as SelectionKind,
      value: this.value.value,
      formats: this.formats.filter((b) => b.checked).map((b) => b.value),
    });
    if (typeof body === "string") {
      this.status.textContent = body;
      return;
    }
    button.disabled = true;
    try {
      const job = await postJSON<ExportJob>(this.url, body);
      this.jobs = [job, ...this.jobs.filter((j) => j.id !== job.id)];
      this.status.textContent = "Export queued.";
      this.render();
    } catch (e) {
      // A 400 names the field and why (e.g. "selection: nothing to export: ...").
      this.status.textContent = e instanceof ApiError ? e.message : `The export could not be requested: ${message(e)}`;
    } finally {
      button.disabled = false;
    }
  }

  private onEvent(event: LiveEvent): void {
    if (event.type === RECONNECTED) {
      void this.load();
      return;
    }
    if (event.type !== "export.progress") return;
    const merged = applyProgress(this.jobs, event.export as ExportProgress);
    if (!merged.known) {
      void this.load();
      return;
    }
    this.jobs = merged.jobs;
    // The download link appears with the finished job: refetch it once it succeeded.
    if ((event.export as ExportProgress).status === "succeeded") void this.load();
    else this.render();
  }

  private render(): void {
    clear(this.rows);
    for (const job of this.jobs) {
      const bar = el("progress", { max: "1", value: String(job.progress), "aria-label": `Export ${job.id} progress` });
      const link = job.download
        ? el("a", { href: job.download, "data-testid": "export-download", download: "" }, "Download")
        : "";
      this.rows.append(
        el(
          "tr",
          { "data-testid": "export-row", "data-export": String(job.id), "data-status": job.status },
          el("td", {}, String(job.id)),
          el("td", {}, new Date(job.created_at).toLocaleString()),
          el("td", {}, selectionText(job, this.choices)),
          el("td", {}, job.formats.join(", ")),
          el("td", { "data-testid": "export-status" }, job.status === "running" ? bar : "", " ", statusText(job)),
          el("td", {}, link),
        ),
      );
    }
  }
}

export function mountExports(root: HTMLElement, choices: ExportChoices): void {
  new ExportsPage(root, choices).mount();
}
