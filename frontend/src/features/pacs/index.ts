/** PACS page (leads only): the project's DICOMweb connection, a study search (QIDO-RS) and
 * imports (WADO-RS) with their progress live on the project socket. */

import { ApiError, csrfToken, getJSON, postJSON } from "../../api/client";
import type { LiveEvent } from "../../api/live";
import { LiveSocket, RECONNECTED } from "../../api/live";
import { clear, el, toast } from "../ui";
import type { PacsConnection, PacsImport, PacsStudy, SearchFields } from "./model";
import { dicomDate, progressText, retryable, searchQuery, upsertImport } from "./model";

export { dicomDate, progressText, retryable, searchQuery, upsertImport } from "./model";
export type { PacsConnection, PacsImport, PacsStudy, SearchFields } from "./model";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function putJSON<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: "PUT",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const o = (data ?? {}) as Record<string, unknown>;
    const text =
      typeof o.detail === "string"
        ? o.detail
        : Object.entries(o)
            .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : String(v)}`)
            .join("; ") || `HTTP ${res.status}`;
    throw new ApiError(res.status, data, text);
  }
  return data as T;
}

function input(name: string, label: string, type = "text"): HTMLInputElement {
  return el("input", { type, name, "data-testid": `pacs-${name}`, "aria-label": label });
}

class PacsPage {
  private readonly base: string;
  private readonly status = el("p", { class: "muted", "data-testid": "pacs-connection-status" });
  private readonly results = el("tbody", { "data-testid": "pacs-results" });
  private readonly importList = el("tbody", { "data-testid": "pacs-imports" });
  private readonly searchError = el("p", { class: "error", "data-testid": "pacs-search-error" });
  private readonly conn = {
    base_url: input("base_url", "DICOMweb URL", "url"),
    username: input("username", "User name"),
    password: input("password", "Password", "password"),
    timeout_s: input("timeout_s", "Timeout (s)", "number"),
  };
  private readonly search = {
    accession_number: input("accession_number", "Accession number"),
    date_from: input("date_from", "Study date from", "date"),
    date_to: input("date_to", "Study date to", "date"),
    modality: input("modality", "Modality"),
    series_description: input("series_description", "Series description"),
  };
  private readonly picked = new Set<string>();
  private imports: PacsImport[] = [];

  constructor(
    private readonly root: HTMLElement,
    slug: string,
  ) {
    this.base = `/api/projects/${encodeURIComponent(slug)}/pacs`;
    this.conn.timeout_s.min = "0.5";
    this.conn.timeout_s.step = "0.5";
    this.conn.password.autocomplete = "new-password";
    this.conn.password.placeholder = "unchanged";
  }

  mount(slug: string): void {
    clear(this.root);
    this.root.append(this.connectionForm(), this.searchForm(), this.importsTable());
    void this.loadConnection();
    void this.loadImports();
    this.root.dataset.live = "off";
    new LiveSocket(
      `/ws/projects/${encodeURIComponent(slug)}/`,
      (e: LiveEvent) => this.onLive(e),
      (connected) => (this.root.dataset.live = connected ? "on" : "off"),
    );
  }

  private connectionForm(): HTMLElement {
    const save = el("button", { type: "submit", "data-testid": "pacs-save" }, "Save connection");
    const form = el(
      "form",
      { class: "pacs-form" },
      el("h2", {}, "Connection"),
      this.status,
      ...Object.values(this.conn).map((i) => el("label", {}, `${i.getAttribute("aria-label") ?? ""} `, i)),
      save,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.saveConnection();
    });
    return form;
  }

  private searchForm(): HTMLElement {
    const form = el(
      "form",
      { class: "pacs-form" },
      el("h2", {}, "Search the PACS"),
      ...Object.values(this.search).map((i) => el("label", {}, `${i.getAttribute("aria-label") ?? ""} `, i)),
      el("button", { type: "submit", "data-testid": "pacs-search" }, "Search"),
      this.searchError,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.runSearch();
    });
    const importButton = el("button", { type: "button", "data-testid": "pacs-import" }, "Import selected");
    importButton.addEventListener("click", () => void this.startImport());
    const heads = [
      "",
      "Patient",
      "Patient ID",
      "Birth date",
      "Study date",
      "Accession",
      "Study",
      "Series",
      "Imported as",
    ];
    const table = el(
      "table",
      { class: "pacs-table" },
      el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", {}, h)))),
      this.results,
    );
    return el("section", {}, form, table, importButton);
  }

  private importsTable(): HTMLElement {
    const heads = ["#", "Status", "Progress", "Cases", "Messages", ""];
    return el(
      "section",
      {},
      el("h2", {}, "Imports"),
      el(
        "table",
        { class: "pacs-table" },
        el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", {}, h)))),
        this.importList,
      ),
    );
  }

  private async loadConnection(): Promise<void> {
    try {
      this.showConnection(await getJSON<PacsConnection>(`${this.base}/connection`));
    } catch (e) {
      toast(`The connection could not be loaded: ${message(e)}`, "error");
    }
  }

  private showConnection(c: PacsConnection): void {
    if (!c.configured) {
      this.status.textContent = "Not connected to a PACS yet.";
      return;
    }
    this.conn.base_url.value = c.base_url ?? "";
    this.conn.username.value = c.username ?? "";
    this.conn.timeout_s.value = String(c.timeout_s ?? 30);
    this.conn.password.value = "";
    this.status.textContent = `Connected to ${c.base_url ?? ""}${c.has_password ? " (password stored encrypted)" : ""}.`;
  }

  private async saveConnection(): Promise<void> {
    const body: Record<string, unknown> = {
      base_url: this.conn.base_url.value.trim(),
      username: this.conn.username.value.trim(),
      timeout_s: Number(this.conn.timeout_s.value || "30"),
    };
    if (this.conn.password.value) body.password = this.conn.password.value;
    try {
      this.showConnection(await putJSON<PacsConnection>(`${this.base}/connection`, body));
      toast("Connection saved");
    } catch (e) {
      toast(`Not saved: ${message(e)}`, "error");
    }
  }

  private async runSearch(): Promise<void> {
    const fields = Object.fromEntries(
      Object.entries(this.search).map(([k, i]) => [k, i.value]),
    ) as unknown as SearchFields;
    this.searchError.textContent = "";
    clear(this.results);
    this.picked.clear();
    try {
      const found = await getJSON<{ studies: PacsStudy[] }>(`${this.base}/studies?${searchQuery(fields)}`);
      this.showStudies(found.studies);
    } catch (e) {
      this.searchError.textContent = message(e);
    }
  }

  private showStudies(studies: PacsStudy[]): void {
    if (studies.length === 0) {
      this.results.append(el("tr", {}, el("td", { colspan: "9", class: "muted" }, "No study matches.")));
      return;
    }
    for (const s of studies) {
      const box = el("input", { type: "checkbox", "data-testid": "pacs-pick", "aria-label": "Select study" });
      box.addEventListener("change", () => (box.checked ? this.picked.add(s.uid) : this.picked.delete(s.uid)));
      const series = s.series.map((x) => `${x.modality} ${x.description} (${x.instances})`).join("; ");
      this.results.append(
        el(
          "tr",
          { "data-accession": s.accession_number },
          el("td", {}, box),
          el("td", {}, s.patient_name),
          el("td", {}, s.patient_id),
          el("td", {}, dicomDate(s.patient_birth_date)),
          el("td", {}, dicomDate(s.study_date)),
          el("td", {}, s.accession_number),
          el("td", {}, s.description),
          el("td", {}, series),
          el("td", { "data-testid": "pacs-imported-as" }, s.imported_as ?? "—"),
        ),
      );
    }
  }

  private async startImport(): Promise<void> {
    if (this.picked.size === 0) {
      toast("Select at least one study", "warn");
      return;
    }
    try {
      const job = await postJSON<PacsImport>(`${this.base}/imports`, { studies: [...this.picked] });
      this.showImport(job);
      toast(`Import ${job.id} queued`);
    } catch (e) {
      toast(`Not imported: ${message(e)}`, "error");
    }
  }

  private async loadImports(): Promise<void> {
    try {
      this.imports = await getJSON<PacsImport[]>(`${this.base}/imports`);
      this.renderImports();
    } catch (e) {
      toast(`Imports could not be loaded: ${message(e)}`, "error");
    }
  }

  private showImport(job: PacsImport): void {
    this.imports = upsertImport(this.imports, job);
    this.renderImports();
  }

  private renderImports(): void {
    clear(this.importList);
    for (const job of this.imports) {
      const retry = el("button", { type: "button", "data-testid": "pacs-retry" }, "Retry");
      retry.hidden = !retryable(job);
      retry.addEventListener("click", () => void this.retry(job.id));
      const messages = [...job.errors, ...job.skipped.map((s) => `${s.file}: ${s.reason}`)];
      this.importList.append(
        el(
          "tr",
          { "data-import": String(job.id), "data-status": job.status },
          el("td", {}, String(job.id)),
          el("td", { "data-testid": "pacs-import-status" }, job.status),
          el("td", { "data-testid": "pacs-import-progress" }, progressText(job)),
          el("td", {}, job.cases.join(", ")),
          el("td", { "data-testid": "pacs-import-errors" }, ...messages.map((m) => el("div", {}, m))),
          el("td", {}, retry),
        ),
      );
    }
  }

  private async retry(id: number): Promise<void> {
    try {
      this.showImport(await postJSON<PacsImport>(`${this.base}/imports/${id}/retry`, {}));
    } catch (e) {
      toast(`Not retried: ${message(e)}`, "error");
    }
  }

  private onLive(e: LiveEvent): void {
    if (e.type === RECONNECTED) {
      void this.loadImports();
      return;
    }
    if (e.type === "pacs.progress" && e.import && typeof e.import === "object") {
      this.showImport(e.import as PacsImport);
    }
  }
}

/** Mounts the PACS page on `root` (its `data-project` names the project). */
export function mountPacs(root: HTMLElement): void {
  const slug = root.dataset.project ?? "";
  new PacsPage(root, slug).mount(slug);
}
