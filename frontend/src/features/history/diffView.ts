/** The visual diff of two revisions: a summary line and, per image, an outline drawing of the
 * shapes removed (red), added (green) and moved (grey where they were, blue where they are). */

import type { CaseInfo, Point, Shape } from "../../contract/types";
import { formatMm } from "../../core/geometry";
import type { RevisionDiff, ShapeChange, Spacing } from "../../core/diff";
import { el } from "../ui";

const SVG = "http://www.w3.org/2000/svg";

interface ImagePlace {
  rows: number;
  columns: number;
  spacing: Spacing | null;
  title: string;
}

/** Size, spacing and a title of every image of the case, by image id. */
export function imagePlaces(info: CaseInfo): Map<string, ImagePlace> {
  const places = new Map<string, ImagePlace>();
  for (const series of info.series) {
    const spacing: Spacing | null = series.spacing_known === false ? null : series.pixel_spacing;
    for (const image of series.images) {
      places.set(String(image.id), {
        rows: series.rows,
        columns: series.columns,
        spacing,
        title: `${series.description || series.orientation} · slice ${image.index + 1}`,
      });
    }
  }
  return places;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function pointsAttr(points: readonly Point[]): string {
  return points.map(([x, y]) => `${x},${y}`).join(" ");
}

function outline(shape: Shape, cls: string, marker: number): SVGElement {
  const pts = shape.points;
  const attrs = { class: cls };
  switch (shape.shape_type) {
    case "polygon":
      return svg("polygon", { ...attrs, points: pointsAttr(pts) });
    case "line":
    case "linestrip":
      return svg("polyline", { ...attrs, points: pointsAttr(pts) });
    case "circle": {
      const [[cx, cy], [ex, ey] = [cx, cy]] = pts;
      return svg("circle", { ...attrs, cx: String(cx), cy: String(cy), r: String(Math.hypot(ex - cx, ey - cy)) });
    }
    case "rectangle":
    case "mask": {
      const xs = pts.map((p) => p[0]);
      const ys = pts.map((p) => p[1]);
      const [x, y] = [Math.min(...xs), Math.min(...ys)];
      return svg("rect", {
        ...attrs,
        x: String(x),
        y: String(y),
        width: String(Math.max(...xs) - x),
        height: String(Math.max(...ys) - y),
      });
    }
    default: {
      const [px, py] = pts[0] ?? [0, 0];
      return svg("circle", { ...attrs, cx: String(px), cy: String(py), r: String(marker) });
    }
  }
}

function drawChange(group: SVGGElement, change: ShapeChange, marker: number): void {
  const title = `${change.kind}: ${change.label}${
    change.displacementMm !== null && change.kind === "moved" ? ` by ${formatMm(change.displacementMm)}` : ""
  }`;
  const add = (shape: Shape | null, cls: string): void => {
    if (!shape) return;
    const node = outline(shape, `diff-shape ${cls}`, marker);
    node.dataset.label = change.label;
    node.append(Object.assign(svg("title", {}), { textContent: title }));
    group.append(node);
  };
  if (change.kind === "moved") {
    add(change.before, "diff-before");
    add(change.after, "diff-moved");
  } else if (change.kind === "removed") add(change.before, "diff-removed");
  else if (change.kind === "added") add(change.after, "diff-added");
  else add(change.after, "diff-unchanged");
}

function summaryText(diff: RevisionDiff): string {
  const parts = [
    `${diff.added} added`,
    `${diff.removed} removed`,
    `${diff.moved} moved`,
    `${diff.unchanged} unchanged`,
  ];
  const largest = diff.largest;
  const most =
    largest && largest.displacementMm !== null
      ? `; largest displacement ${formatMm(largest.displacementMm)} (${largest.label})`
      : "";
  return parts.join(" · ") + most;
}

export function renderDiff(host: HTMLElement, diff: RevisionDiff, places: Map<string, ImagePlace>): void {
  const summary = el("p", { class: "diff-summary", "data-testid": "diff-summary" }, summaryText(diff));
  summary.dataset.added = String(diff.added);
  summary.dataset.removed = String(diff.removed);
  summary.dataset.moved = String(diff.moved);
  summary.dataset.largestMm = diff.largest?.displacementMm?.toFixed(2) ?? "";
  const figures: HTMLElement[] = [];
  const images = [...new Set(diff.changes.filter((c) => c.kind !== "unchanged").map((c) => c.image))];
  for (const image of images) {
    const place = places.get(image);
    const rows = place?.rows ?? 512;
    const columns = place?.columns ?? 512;
    const drawing = svg("svg", {
      viewBox: `0 0 ${columns} ${rows}`,
      class: "diff-drawing",
      role: "img",
      "aria-label": `Changes on ${place?.title ?? `image ${image}`}`,
    });
    drawing.append(svg("rect", { class: "diff-frame", x: "0", y: "0", width: String(columns), height: String(rows) }));
    const group = svg("g", {});
    const marker = Math.max(columns, rows) / 120;
    for (const change of diff.changes) if (change.image === image) drawChange(group, change, marker);
    drawing.append(group);
    figures.push(
      el(
        "figure",
        { class: "diff-figure", "data-testid": "diff-figure", "data-image": image },
        drawing,
        el("figcaption", {}, place?.title ?? `image ${image}`),
      ),
    );
  }
  const legend = el(
    "p",
    { class: "diff-legend muted" },
    el("span", { class: "key key-added" }, "added"),
    " ",
    el("span", { class: "key key-removed" }, "removed"),
    " ",
    el("span", { class: "key key-before" }, "moved: before"),
    " ",
    el("span", { class: "key key-moved" }, "after"),
  );
  host.replaceChildren(summary, ...(figures.length ? [legend, el("div", { class: "diff-figures" }, ...figures)] : []));
}
