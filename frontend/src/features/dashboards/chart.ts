/**
 * One chart of a dashboard: Vega-Lite through vega-embed, loaded only when a dashboard draws its first chart
 * (a separate chunk), rendered on a canvas with Vega's CSP-safe expression interpreter (the app's
 * Content-Security-Policy refuses `new Function`), with PNG and SVG downloads. An empty state replaces a chart that
 * has nothing to show.
 */

import { el } from "../ui";
import type { ChartResult } from "./specs";

type Embed = typeof import("vega-embed");
type Interpreter = typeof import("vega-interpreter");

let vega: Promise<[Embed, Interpreter]> | null = null;

function loadVega(): Promise<[Embed, Interpreter]> {
  vega ??= Promise.all([import("vega-embed"), import("vega-interpreter")]);
  return vega;
}

export interface ChartHandle {
  root: HTMLElement;
  /** Resolves when the chart is drawn (or its empty state shown). */
  ready: Promise<void>;
  dispose(): void;
}

function download(href: string, name: string): void {
  const a = el("a", { href, download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

/** "Dice per structure" → "dice-per-structure". */
export function fileStem(title: string): string {
  return (
    title
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 60) || "chart"
  );
}

/** A chart card: the chart (or its empty state) and its PNG / SVG buttons, identified by `id`. */
export function chartCard(id: string, title: string, result: ChartResult): ChartHandle {
  const root = el("figure", { class: "dash-chart", "data-testid": `chart-${id}`, "data-chart": id });
  if ("empty" in result) {
    root.dataset.state = "empty";
    root.append(
      el("figcaption", {}, title),
      el("div", { class: "empty-state dash-empty", "data-testid": `chart-${id}-empty` }, result.empty),
    );
    return { root, ready: Promise.resolve(), dispose: () => {} };
  }
  root.dataset.state = "loading";
  const host = el("div", { class: "dash-chart-host" });
  const png = el("button", { type: "button", "data-testid": `chart-${id}-png`, disabled: true }, "PNG");
  const svg = el("button", { type: "button", "data-testid": `chart-${id}-svg`, disabled: true }, "SVG");
  root.append(host, el("div", { class: "dash-chart-actions" }, el("span", { class: "dim" }, "Download"), png, svg));
  let finalize: (() => void) | null = null;
  const urls: string[] = [];
  let disposed = false;
  const ready = loadVega()
    .then(async ([{ default: embed }, { expressionInterpreter }]) => {
      if (disposed) return;
      const result_ = await embed(host, result.spec, {
        renderer: "canvas",
        actions: false,
        defaultStyle: false,
        tooltip: false,
        ast: true,
        expr: expressionInterpreter,
      });
      if (disposed) {
        result_.finalize();
        return;
      }
      finalize = () => result_.finalize();
      const stem = fileStem(title);
      // The files are made when the chart is drawn, so that a click downloads at once, inside its user gesture
      // (a download started later, after an await, may be refused by the browser as one without a gesture).
      const [pngUrl, svgUrl] = await Promise.all([result_.view.toImageURL("png", 2), result_.view.toImageURL("svg")]);
      if (disposed) return;
      urls.push(pngUrl, svgUrl);
      png.addEventListener("click", () => download(pngUrl, `${stem}.png`));
      svg.addEventListener("click", () => download(svgUrl, `${stem}.svg`));
      png.disabled = false;
      svg.disabled = false;
      root.dataset.state = "ready";
    })
    .catch((e: unknown) => {
      root.dataset.state = "error";
      host.append(
        el(
          "div",
          { class: "empty-state" },
          `This chart could not be drawn: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
    });
  return {
    root,
    ready,
    dispose: () => {
      disposed = true;
      finalize?.();
      for (const u of urls) if (u.startsWith("blob:")) URL.revokeObjectURL(u);
    },
  };
}
