/** Side panel sections of the annotator: labels, shapes of the slice, keypoints, case fields. */

import type { Shape, Template } from "../../contract/types";
import { formatMm, lengthMm, polygonAreaMm2 } from "../../core/geometry";
import { keypointWarnings, nextKeypoint, placedKeypoints } from "../../core/keypoints";
import type { ValidationIssue } from "../../core/validation";
import { labelsForView } from "../../core/validation";
import { clear, el } from "../ui";
import type { Viewport } from "../viewer";
import { labelColour } from "./render";
import type { AnnotationStore } from "./store";

function describe(s: Shape, vp: Viewport, area: number | null): string {
  const [sr, sc] = vp.series.pixel_spacing;
  if (s.shape_type === "line" && s.points.length === 2) return formatMm(lengthMm(s.points[0], s.points[1], sr, sc));
  if (s.shape_type === "polygon")
    return `${s.points.length} pts · ${(area ?? polygonAreaMm2(s.points, sr, sc)).toFixed(1)} mm²`;
  if (s.shape_type === "point") return `${s.points[0][0].toFixed(1)}, ${s.points[0][1].toFixed(1)}`;
  if (s.shape_type === "mask" && s.points.length === 2)
    return `bbox ${Math.round(s.points[1][0] - s.points[0][0] + 1)}×${Math.round(s.points[1][1] - s.points[0][1] + 1)} px`;
  return `${s.points.length} pts`;
}

export function renderLabels(
  body: HTMLElement,
  store: AnnotationStore,
  template: Template,
  vp: Viewport,
  redraw: () => void,
): void {
  clear(body);
  const shapes = store.shapesOf(vp.currentImageId);
  const offered = new Set(labelsForView(template, vp.view));
  for (const l of template.labels) {
    const n = shapes.filter((s) => s.label === l.name).length;
    const eye = el("button", {
      class: `eye${store.hiddenLabels.has(l.name) ? " off" : ""}`,
      "data-testid": `label-visibility-${l.name}`,
      title: "Hide / show",
    });
    eye.innerHTML =
      '<svg viewBox="0 0 20 20" width="14" height="14" fill="none" stroke="currentColor" stroke-width="1.6"><path d="M2 10s3-5 8-5 8 5 8 5-3 5-8 5-8-5-8-5z"/><circle cx="10" cy="10" r="2.2"/></svg>';
    eye.addEventListener("click", (e) => {
      e.stopPropagation();
      if (store.hiddenLabels.has(l.name)) store.hiddenLabels.delete(l.name);
      else store.hiddenLabels.add(l.name);
      store.emit("view");
      redraw();
    });
    const row = el(
      "div",
      {
        class: `row label-row${store.activeLabel === l.name ? " active" : ""}`,
        "data-testid": `label-${l.name}`,
        title: `${l.shape_types.join(", ")}${l.views ? ` · ${l.views.join(", ")}` : ""}`,
      },
      el("span", { class: "swatch", style: `background:${l.color}` }),
      el("span", { class: "grow", style: offered.has(l.name) ? "" : "opacity:.5" }, l.name),
      l.hotkey ? el("kbd", {}, l.hotkey) : null,
      el("span", { class: "dim" }, n ? String(n) : ""),
      eye,
    );
    row.addEventListener("click", () => {
      store.activeLabel = l.name;
      store.emit("view");
    });
    body.append(row);
  }
  const opacity = el("input", {
    type: "range",
    min: "0",
    max: "1",
    step: "0.05",
    value: String(store.opacity),
    "data-testid": "opacity",
  });
  opacity.addEventListener("input", () => {
    store.opacity = Number(opacity.value);
    redraw();
  });
  const all = el("input", { type: "checkbox", "data-testid": "hide-all" });
  all.checked = store.allHidden;
  all.addEventListener("change", () => {
    store.allHidden = all.checked;
    store.emit("view");
    redraw();
  });
  body.append(
    el("div", { class: "slider" }, el("span", { class: "dim" }, "Fill"), opacity),
    el("label", { class: "field-row" }, all, "Hide all shapes (H)"),
  );
}

export function renderShapes(
  body: HTMLElement,
  store: AnnotationStore,
  vp: Viewport,
  issues: ValidationIssue[],
  serverErrors: Map<number, string>,
): number {
  clear(body);
  const id = vp.currentImageId;
  const shapes = store.shapesOf(id);
  if (shapes.length === 0) body.append(el("div", { class: "row dim" }, "No shapes on this slice."));
  shapes.forEach((s, i) => {
    const sel = store.selection?.imageId === id && store.selection.index === i;
    const problem = issues.find((x) => x.index === i)?.message ?? serverErrors.get(i);
    const del = el("button", { "data-testid": "shape-delete", title: "Delete (Del)" }, "✕");
    del.disabled = !store.editable;
    del.addEventListener("click", (e) => {
      e.stopPropagation();
      if (id !== null) store.deleteShape(id, i);
    });
    const locked = store.isLocked(s);
    const lock = el(
      "button",
      {
        class: `lock${locked ? " on" : ""}`,
        "data-testid": "shape-lock",
        title: locked ? "Unlock" : "Lock: never picked or moved on the image",
        "aria-pressed": String(locked),
        "aria-label": locked ? "Unlock shape" : "Lock shape",
      },
      lockIcon(locked),
    );
    del.disabled ||= locked;
    lock.addEventListener("click", (e) => {
      e.stopPropagation();
      if (id !== null) store.toggleLock(id, i);
    });
    const row = el(
      "div",
      {
        class: `row${sel ? " selected" : ""}`,
        "data-testid": "shape-row",
        "data-locked": String(locked),
        "data-index": String(i),
        "data-label": s.label,
        "data-shape-type": s.shape_type,
      },
      el("span", { class: "swatch", style: `background:${labelColour({ labels: [], keypoint_sets: [] }, s.label)}` }),
      el(
        "span",
        { class: "grow" },
        `${s.label} `,
        el("span", { class: "dim" }, `${s.shape_type} · ${describe(s, vp, null)}`),
      ),
      lock,
      del,
    );
    if (problem)
      row.append(
        el("div", { class: "dim", style: "color:#ffb1ac;flex-basis:100%", "data-testid": "shape-error" }, problem),
      );
    row.style.flexWrap = "wrap";
    row.addEventListener("click", () => {
      if (id !== null) store.select({ imageId: id, index: i });
    });
    body.append(row);
  });
  return shapes.length;
}

export function colourSwatches(body: HTMLElement, template: Template): void {
  body.querySelectorAll<HTMLElement>("[data-testid=shape-row]").forEach((row) => {
    const sw = row.querySelector<HTMLElement>(".swatch");
    if (sw) sw.style.background = labelColour(template, row.dataset.label ?? "");
  });
}

export function renderKeypoints(
  body: HTMLElement,
  store: AnnotationStore,
  template: Template,
  vp: Viewport,
): Set<string> {
  clear(body);
  const warned = new Set<string>();
  const set = (template.keypoint_sets ?? []).find((s) => !s.view || s.view === vp.view);
  if (!set) {
    body.append(el("div", { class: "row dim" }, `No keypoint set for ${vp.view} images.`));
    return warned;
  }
  const shapes = store.shapesOf(vp.currentImageId);
  const placed = placedKeypoints(set, shapes);
  const next = nextKeypoint(set, shapes);
  const warnings = keypointWarnings(set, shapes);
  for (const w of warnings) for (const n of w.names) warned.add(n);
  body.append(
    el(
      "div",
      { class: "next-kp", "data-testid": "next-keypoint" },
      next ? `Next: ${next}` : `All ${set.points.length} placed`,
    ),
  );
  const grid = el("div", { class: "kp-grid" });
  for (const n of set.points) {
    const cls = `kp${placed.has(n) ? " placed" : ""}${n === next ? " next" : ""}${warned.has(n) ? " warn" : ""}`;
    const cell = el(
      "div",
      { class: cls, "data-testid": `kp-${n}`, title: placed.has(n) ? "Placed: click to select" : "Not placed" },
      n,
    );
    cell.addEventListener("click", () => {
      const i = shapes.findIndex((s) => s.label === n && s.shape_type === "point");
      const id = vp.currentImageId;
      if (i >= 0 && id !== null) store.select({ imageId: id, index: i });
    });
    grid.append(cell);
  }
  body.append(grid);
  const ul = el("ul", { class: "warnings", "data-testid": "keypoint-warnings" });
  for (const w of warnings) ul.append(el("li", { "data-testid": "keypoint-warning" }, `⚠ ${w.message}`));
  body.append(ul);
  return warned;
}

export function renderFields(body: HTMLElement, store: AnnotationStore, template: Template): void {
  clear(body);
  const fields = template.case_fields ?? [];
  if (fields.length === 0) body.append(el("div", { class: "row dim" }, "No case-level fields."));
  for (const f of fields) {
    const value = store.doc.case_fields[f.name];
    if (f.type === "checkbox") {
      const box = el("input", { type: "checkbox", "data-testid": `field-${f.name}` });
      box.checked = value === true;
      box.disabled = !store.editable;
      box.addEventListener("change", () => store.setCaseField(f.name, box.checked));
      body.append(el("label", { class: "field-row" }, box, f.label ?? f.name));
    } else if (f.type === "choice") {
      const sel = el("select", { "data-testid": `field-${f.name}` }, el("option", { value: "" }, "—"));
      for (const c of f.choices ?? []) sel.append(el("option", { value: c }, c));
      sel.value = typeof value === "string" ? value : "";
      sel.disabled = !store.editable;
      sel.addEventListener("change", () => store.setCaseField(f.name, sel.value === "" ? null : sel.value));
      body.append(el("label", { class: "field-row" }, el("span", {}, f.label ?? f.name), sel));
    } else {
      const input = el("input", {
        type: "text",
        "data-testid": `field-${f.name}`,
        value: typeof value === "string" ? value : "",
      });
      input.disabled = !store.editable;
      input.addEventListener("change", () => store.setCaseField(f.name, input.value));
      body.append(el("label", { class: "field-row" }, el("span", {}, f.label ?? f.name), input));
    }
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** A padlock drawn inline (closed or open): the emoji has no glyph in Debian's Chromium fonts. */
export function lockIcon(closed: boolean): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 12 14");
  svg.setAttribute("width", "12");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "lock-icon");
  svg.dataset.closed = String(closed);
  const shackle = document.createElementNS(SVG_NS, "path");
  // The open shackle swings up and to the right, free of the body on that side.
  shackle.setAttribute("d", closed ? "M3 6.5V4a3 3 0 0 1 6 0v2.5" : "M3 6.5V4a3 3 0 0 1 6 0");
  shackle.setAttribute("fill", "none");
  shackle.setAttribute("stroke", "currentColor");
  shackle.setAttribute("stroke-width", "1.6");
  const body = document.createElementNS(SVG_NS, "rect");
  for (const [k, v] of Object.entries({ x: "1", y: "6.5", width: "10", height: "7", rx: "1.5" }))
    body.setAttribute(k, v);
  body.setAttribute("fill", "currentColor");
  svg.append(shackle, body);
  return svg;
}
