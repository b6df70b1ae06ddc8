/** Upload page: choose or drop files, folders and zips; the list with sizes waits for the
 * Upload button; batched multipart upload with per-file progress; the import summary. */

import { csrfToken } from "../../api/client";
import type { ImportSummary } from "../../contract/types";
import { clear, el } from "../ui";
import type { Entry } from "./files";
import { FileTable, formatBytes } from "./files";
import type { UploadResult } from "./summary";
import { renderSummary } from "./summary";

export { caseOutcomeText, summaryHeading } from "./summary";
export { fileProgress, formatBytes } from "./files";

const BATCH_BYTES = 256 * 1024 * 1024;
const BATCH_FILES = 400;

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

function send(url: string, batch: Entry[], onProgress: (loaded: number) => void): Promise<UploadResult> {
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
    el("div", {}, "Nothing is sent until you press Upload; images are de-identified on arrival."),
    el("div", { class: "actions" }, pickFiles, pickDir),
    filesInput,
    dirInput,
  );
  const start = el("button", { class: "primary", "data-testid": "upload-start" }, "Upload");
  const cancel = el("button", { "data-testid": "upload-clear" }, "Clear");
  const bar = el("div");
  const progress = el("div", { class: "progress", "data-testid": "upload-progress" }, bar);
  const status = el("div", { class: "muted", "data-testid": "upload-status" });
  const files = new FileTable();
  const confirm = el("div", { class: "upload-confirm" }, status, el("div", { class: "actions" }, start, cancel));
  const list = el("div", { class: "upload-list" }, confirm, progress, files.root);
  list.style.display = "none";
  const summary = el("div", { class: "summary", "data-testid": "upload-summary" });
  root.append(zone, list, summary);

  let staged: Entry[] = [];
  let busy = false;
  const stage = (entries: Entry[]) => {
    if (busy) return;
    zone.classList.remove("over");
    staged = [...staged, ...entries];
    clear(summary);
    bar.style.width = "0";
    list.style.display = staged.length ? "" : "none";
    start.hidden = cancel.hidden = false;
    progress.hidden = true; // the overall bar shows once Upload is pressed
    start.disabled = staged.length === 0;
    const total = staged.reduce((n, e) => n + e.file.size, 0);
    const count = `${staged.length} file${staged.length === 1 ? "" : "s"}`;
    start.textContent = `Upload ${count}`;
    status.textContent = `Ready to upload ${count} (${formatBytes(total)}). Check the list, then press Upload.`;
    files.show(staged, (index) => {
      staged = staged.filter((_, i) => i !== index);
      stage([]);
    });
  };
  const run = async () => {
    const entries = staged;
    if (busy || entries.length === 0) return;
    busy = true;
    start.hidden = cancel.hidden = true;
    progress.hidden = false;
    files.show(entries, null);
    const total = entries.reduce((n, e) => n + e.file.size, 0) || 1;
    let done = 0;
    let from = 0;
    const all: UploadResult[] = [];
    const parts = batches(entries);
    for (const [k, b] of parts.entries()) {
      status.textContent = `Uploading ${entries.length} files (${formatBytes(total)}), part ${k + 1} of ${parts.length}…`;
      const size = b.reduce((n, e) => n + e.file.size, 0);
      const res = await send(url, b, (loaded) => {
        bar.style.width = `${Math.min(100, ((done + loaded) / total) * 100).toFixed(1)}%`;
        files.progress(from, loaded, b.length);
      });
      const skipped = new Map((res.body.skipped ?? []).map((s) => [s.file, s.reason]));
      const failed =
        res.status === 0 || (res.status >= 400 && !res.body.skipped?.length)
          ? (res.body.detail ?? `HTTP ${res.status}`)
          : null;
      files.finish(from, b.length, skipped, failed);
      done += size;
      from += b.length;
      bar.style.width = `${((done / total) * 100).toFixed(1)}%`;
      all.push(res);
    }
    status.textContent = "Upload finished.";
    renderSummary(summary, all);
    staged = [];
    busy = false;
  };
  start.addEventListener("click", () => void run());
  cancel.addEventListener("click", () => {
    staged = [];
    stage([]);
  });
  const pick = (input: HTMLInputElement, path: (f: File) => string) => {
    stage(Array.from(input.files ?? [], (f) => ({ file: f, path: path(f) })));
    input.value = ""; // choosing the same file again is a change too
  };
  filesInput.addEventListener("change", () => pick(filesInput, (f) => f.name));
  dirInput.addEventListener("change", () => pick(dirInput, (f) => f.webkitRelativePath || f.name));
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    const items = Array.from(e.dataTransfer?.items ?? []);
    const roots = items.map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
    if (roots.length) void Promise.all(roots.map((r) => walk(r))).then((l) => stage(l.flat()));
    else stage(Array.from(e.dataTransfer?.files ?? [], (f) => ({ file: f, path: f.name })));
  });
}
