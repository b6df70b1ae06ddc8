/** The files chosen for an upload: listed with their sizes before anything is sent (the
 * Upload button starts it), then each with its own progress as the batches go out. */

import { el } from "../ui";

export interface Entry {
  file: File;
  path: string;
}

/** "512 B", "34.0 KB", "1.2 MB", "2.31 GB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** How much of each file (0..1) a multipart body of these sizes, in order, has sent once
 * `loaded` bytes are out (the files go in order; part headers are small beside them). */
export function fileProgress(sizes: number[], loaded: number): number[] {
  let left = loaded;
  return sizes.map((size) => {
    if (size === 0) return left >= 0 ? 1 : 0;
    const part = Math.min(1, Math.max(0, left / size));
    left -= size;
    return part;
  });
}

type FileState = "ready" | "sending" | "sent" | "skipped" | "failed";

interface FileRow {
  entry: Entry;
  tr: HTMLTableRowElement;
  bar: HTMLElement;
  state: HTMLElement;
}

export class FileTable {
  readonly root = el("div", { class: "file-table", "data-testid": "upload-file-list" });
  private readonly body = el("tbody");
  private rows: FileRow[] = [];

  constructor() {
    this.root.append(
      el(
        "table",
        { class: "files" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", {}, "File"),
            el("th", { class: "num" }, "Size"),
            el("th", {}, "Progress"),
            el("th", { "aria-label": "Remove" }),
          ),
        ),
        this.body,
      ),
    );
  }

  show(entries: Entry[], onRemove: ((index: number) => void) | null): void {
    this.body.replaceChildren();
    this.rows = entries.map((entry, index) => {
      const fill = el("div");
      const bar = el("div", { class: "progress" }, fill);
      const state = el("span", { class: "file-state muted" }, "ready");
      const tr = el(
        "tr",
        { "data-testid": "upload-file", "data-state": "ready" },
        el("td", { class: "name", title: entry.path }, entry.path),
        el("td", { class: "num", "data-testid": "upload-file-size" }, formatBytes(entry.file.size)),
        el("td", { class: "file-progress" }, bar, state),
      );
      const cell = el("td", { class: "remove" });
      if (onRemove) {
        const remove = el("button", { class: "link", title: "Leave this file out", "aria-label": "Remove" }, "×");
        remove.addEventListener("click", () => onRemove(index));
        cell.append(remove);
      }
      tr.append(cell);
      this.body.append(tr);
      return { entry, tr, bar: fill, state };
    });
  }

  /** Progress of the files `from`..`from + sizes.length` of the list within their batch. */
  progress(from: number, loaded: number, count: number): void {
    const rows = this.rows.slice(from, from + count);
    const parts = fileProgress(
      rows.map((r) => r.entry.file.size),
      loaded,
    );
    rows.forEach((row, i) => {
      const part = parts[i] ?? 0;
      row.bar.style.width = `${(part * 100).toFixed(0)}%`;
      if (part > 0) this.set(row, part >= 1 ? "sent" : "sending", part >= 1 ? "sent" : `${(part * 100).toFixed(0)} %`);
    });
  }

  /** The batch's reply: its files sent (or refused with the reason), or the batch failed. */
  finish(from: number, count: number, skipped: Map<string, string>, failed: string | null): void {
    for (const row of this.rows.slice(from, from + count)) {
      row.bar.style.width = "100%";
      const reason = skipped.get(row.entry.path) ?? skipped.get(row.entry.file.name);
      if (failed !== null) this.set(row, "failed", `failed: ${failed}`);
      else if (reason !== undefined) this.set(row, "skipped", `skipped: ${reason}`);
      else this.set(row, "sent", "sent");
    }
  }

  private set(row: FileRow, state: FileState, text: string): void {
    row.tr.dataset.state = state;
    row.state.textContent = text;
    row.state.title = text;
  }
}
