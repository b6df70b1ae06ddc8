/** The annotator's part of the app bar: read selector, save state and button, labelme import/export, live state. */

import type { CaseInfo } from "../../contract/types";
import type { LabelmeFile } from "../../core/labelme";
import { exportLabelme, importLabelme, labelmeText } from "../../core/labelme";
import type { ReadSession } from "../reads";
import { downloadText, el, toast } from "../ui";
import type { ViewerLayout } from "../viewer";
import type { AnnotationStore } from "./store";

export function mountAppBar(args: {
  appbar: HTMLElement;
  caseInfo: CaseInfo;
  layout: ViewerLayout;
  store: AnnotationStore;
  session: ReadSession;
}): void {
  const { appbar, session } = args;
  const exportB = el(
    "button",
    { "data-testid": "labelme-export", title: "Download labelme JSON of the active slice" },
    "↓ labelme",
  );
  const importInput = el("input", {
    type: "file",
    accept: ".json,application/json",
    style: "display:none",
    "data-testid": "labelme-file",
  });
  const importB = el(
    "button",
    { "data-testid": "labelme-import", title: "Load labelme JSON into the active slice" },
    "↑ labelme",
  );
  const saveB = el("button", { "data-testid": "save-now", title: "Save now (Ctrl+S)" }, "Save");
  importB.addEventListener("click", () => importInput.click());
  saveB.addEventListener("click", () => session.saveNow());
  appbar.insertBefore(el("span", { class: "sep" }), appbar.lastElementChild);
  for (const n of [
    session.startButton,
    session.readSelect,
    session.statusPill,
    saveB,
    el("span", { class: "sep" }),
    importB,
    exportB,
    importInput,
    session.livePill,
  ]) {
    appbar.insertBefore(n, appbar.lastElementChild);
  }
  // The file a slice was imported from: its other keys go back out on export (round trip).
  const bases = new Map<number, LabelmeFile>();
  exportB.addEventListener("click", () => exportSlice(args, bases));
  importInput.addEventListener("change", () => {
    const f = importInput.files?.[0];
    importInput.value = "";
    if (f) void importSlice(args, bases, f);
  });
}

type Parts = { caseInfo: CaseInfo; layout: ViewerLayout; store: AnnotationStore };

/** Download the active slice's shapes as a labelme file. */
function exportSlice({ caseInfo, layout, store }: Parts, bases: Map<number, LabelmeFile>): void {
  const vp = layout.active();
  const id = vp.currentImageId;
  if (id === null) return;
  const file = exportLabelme({
    shapes: store.shapesOf(id),
    base: bases.get(id) ?? null,
    imagePath: `${caseInfo.pseudonym}_${vp.series.number ?? vp.series.id}_${String(vp.index).padStart(4, "0")}.png`,
    imageHeight: vp.series.rows,
    imageWidth: vp.series.columns,
  });
  downloadText(`${caseInfo.pseudonym}_image${id}.json`, labelmeText(file));
}

/** Replace the active slice's shapes with a labelme file's (one undo step). */
async function importSlice({ layout, store }: Parts, bases: Map<number, LabelmeFile>, f: File): Promise<void> {
  const vp = layout.active();
  const id = vp.currentImageId;
  if (id === null || !store.editable) return;
  try {
    const file = importLabelme(await f.text());
    if (
      file.imageWidth &&
      file.imageHeight &&
      (file.imageWidth !== vp.series.columns || file.imageHeight !== vp.series.rows)
    ) {
      toast(
        `This file is for a ${file.imageWidth}×${file.imageHeight} image; the slice is ${vp.series.columns}×${vp.series.rows}`,
        "error",
      );
      return;
    }
    bases.set(id, file);
    store.setShapes(id, file.shapes);
    toast(`Imported ${file.shapes.length} shapes into slice ${vp.index + 1}`);
  } catch (e) {
    toast(e instanceof Error ? e.message : String(e), "error", 6000);
  }
}
