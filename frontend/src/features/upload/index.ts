/** Upload page: drag-drop files, folders and zips; batched multipart upload with progress; the import summary. */

import { csrfToken } from "../../api/client";
import type { ImportSummary } from "../../contract/types";
import { clear, el } from "../ui";

const BATCH_BYTES = 256 * 1024 * 1024;
const BATCH_FILES = 400;

interface Entry {
  file: File;
  path: string;
}

/** Walk a dropped directory (webkitGetAsEntry API) into files with their relative paths. */
async function walk(entry: FileSystemEntry, prefix = ""): Promise<Entry[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    return [{ file, path: prefix + entry.name }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: Entry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const e of batch) out.push(...(await walk(e, `${prefix}${entry.name}/`)));
  }
  return out;
}

export function batches(entries: Entry[]): Entry[][] {
  const out: Entry[][] = [];
  let cur: Entry[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (cur.length && (bytes + e.file.size > BATCH_BYTES || cur.length >= BATCH_FILES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += e.file.size;
  }
  if (cur.length) out.push(cur);
  return out;
}

function send(
  url: string,
  batch: Entry[],
  onProgress: (loaded: number) => void,
): Promise<{ status: number; body: ImportSummary }> {
  return new Promise((resolve) => {
    const form = new FormData();
    for (const e of batch) form.append("files", e.file, e.path);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (ev) => onProgress(ev.loaded);
    xhr.onload = () => {
      let body: ImportSummary;
      try {
        body = JSON.parse(xhr.responseText) as ImportSummary;
      } catch {
        const text = xhr.responseText.trim();
        body = {
          detail:
            text && !text.startsWith("<")
              ? text.slice(0, 300)
              : `The server answered HTTP ${xhr.status} ${xhr.statusText}`,
        };
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => resolve({ status: 0, body: { detail: "network error: the upload did not reach the server" } });
    xhr.send(form);
  });
}

export function mountUpload(root: HTMLElement): void {
  const project = root.dataset.project ?? "";
  const url = `/api/projects/${project}/imports`;
  const filesInput = el("input", {
    type: "file",
    multiple: true,
    style: "display:none",
    "data-testid": "upload-files",
  });
  const dirInput = el("input", {
    type: "file",
    multiple: true,
    webkitdirectory: true,
    style: "display:none",
    "data-testid": "upload-folder",
  });
  const pickFiles = el("button", { class: "primary", "data-testid": "pick-files" }, "Choose files or zips…");
  const pickDir = el("button", { "data-testid": "pick-folder" }, "Choose a folder…");
  pickFiles.addEventListener("click", () => filesInput.click());
  pickDir.addEventListener("click", () => dirInput.click());
  const zone = el(
    "div",
    { class: "dropzone", "data-testid": "dropzone" },
    el("div", { class: "big" }, "Drop DICOM files, folders, zip archives, NIfTI or labelme folders here"),
    el("div", {}, "Everything is uploaded to this project and de-identified on arrival."),
    el("div", { class: "actions" }, pickFiles, pickDir),
    filesInput,
    dirInput,
  );
  const bar = el("div");
  const progress = el("div", { class: "progress", "data-testid": "upload-progress" }, bar);
  const status = el("div", { class: "muted", "data-testid": "upload-status" });
  const list = el("div", { class: "upload-list" }, status, progress);
  list.style.display = "none";
  const summary = el("div", { class: "summary", "data-testid": "upload-summary" });
  root.append(zone, list, summary);

  let busy = false;
  const run = async (entries: Entry[]) => {
    if (busy || entries.length === 0) return;
    busy = true;
    zone.classList.remove("over");
    list.style.display = "";
    clear(summary);
    const total = entries.reduce((n, e) => n + e.file.size, 0) || 1;
    let done = 0;
    const all: { status: number; body: ImportSummary }[] = [];
    const parts = batches(entries);
    for (const [k, b] of parts.entries()) {
      status.textContent = `Uploading ${entries.length} files (${(total / 1048576).toFixed(1)} MB), part ${k + 1} of ${parts.length}…`;
      const size = b.reduce((n, e) => n + e.file.size, 0);
      const res = await send(url, b, (loaded) => {
        bar.style.width = `${Math.min(100, ((done + loaded) / total) * 100).toFixed(1)}%`;
      });
      done += size;
      bar.style.width = `${((done / total) * 100).toFixed(1)}%`;
      all.push(res);
    }
    status.textContent = "Upload finished.";
    renderSummary(summary, all);
    busy = false;
  };
  filesInput.addEventListener(
    "change",
    () => void run(Array.from(filesInput.files ?? [], (f) => ({ file: f, path: f.name }))),
  );
  dirInput.addEventListener(
    "change",
    () => void run(Array.from(dirInput.files ?? [], (f) => ({ file: f, path: f.webkitRelativePath || f.name }))),
  );
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    const items = Array.from(e.dataTransfer?.items ?? []);
    const roots = items.map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
    if (roots.length) void Promise.all(roots.map((r) => walk(r))).then((l) => run(l.flat()));
    else void run(Array.from(e.dataTransfer?.files ?? [], (f) => ({ file: f, path: f.name })));
  });
}

function renderSummary(root: HTMLElement, results: { status: number; body: ImportSummary }[]): void {
  const cases = results.flatMap((r) => r.body.cases ?? []);
  const skipped = results.flatMap((r) => r.body.skipped ?? []);
  const series = results.reduce((n, r) => n + (r.body.series ?? 0), 0);
  const images = results.reduce((n, r) => n + (r.body.images ?? 0), 0);
  const failed = results.filter((r) => r.status >= 400 || r.status === 0);
  root.append(el("h2", {}, failed.length === results.length ? "Nothing was imported" : "Import summary"));
  root.append(
    el(
      "div",
      { class: "stats" },
      el("div", { "data-testid": "summary-cases" }, el("b", {}, String(cases.length)), "cases"),
      el("div", { "data-testid": "summary-series" }, el("b", {}, String(series)), "series"),
      el("div", { "data-testid": "summary-images" }, el("b", {}, String(images)), "images"),
      el("div", { "data-testid": "summary-skipped" }, el("b", {}, String(skipped.length)), "files skipped"),
    ),
  );
  for (const f of failed)
    if (f.body.detail) root.append(el("p", { class: "message error", "data-testid": "upload-error" }, f.body.detail));
  if (cases.length) {
    const t = el(
      "table",
      { "data-testid": "summary-case-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "Case"), el("th", {}, ""))),
    );
    const tb = el("tbody");
    for (const c of cases)
      tb.append(
        el(
          "tr",
          {},
          el("td", {}, el("a", { href: `/cases/${c.id}/` }, c.pseudonym)),
          el(
            "td",
            {},
            c.created ? el("span", { class: "badge ok" }, "new") : el("span", { class: "badge" }, "added to existing"),
          ),
        ),
      );
    t.append(tb);
    root.append(t);
  }
  if (skipped.length) {
    root.append(el("h2", {}, "Skipped files"));
    const t = el(
      "table",
      { class: "skipped", "data-testid": "skipped-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "File"), el("th", {}, "Reason"))),
    );
    const tb = el("tbody");
    for (const s of skipped)
      tb.append(el("tr", { "data-testid": "skipped-row" }, el("td", {}, s.file), el("td", {}, s.reason)));
    t.append(tb);
    root.append(t);
  }
}
