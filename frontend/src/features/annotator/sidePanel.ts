/** The annotator's side panel: labels, keypoints, shapes of the slice, case fields, measurements, revisions. */

import type { Template } from "../../contract/types";
import { validateImageShapes } from "../../core/validation";
import type { MeasurePanel } from "../measure";
import type { ReadSession } from "../reads";
import { el, section } from "../ui";
import type { ViewerLayout } from "../viewer";
import { colourSwatches, renderFields, renderKeypoints, renderLabels, renderShapes } from "./panel";
import type { AnnotationStore } from "./store";

export interface SidePanel {
  /** Render every section again for the active viewport's slice. */
  refresh(): void;
  /** Labels of keypoints with a plausibility warning (drawn in the warning colour). */
  readonly warned: Set<string>;
  /** Indices of the active slice's shapes that are invalid (client check or the server's answer). */
  readonly invalid: Set<number>;
}

export function mountSidePanel(args: {
  side: HTMLElement;
  template: Template;
  layout: ViewerLayout;
  store: AnnotationStore;
  session: ReadSession;
  measure: MeasurePanel;
  redraw: () => void;
}): SidePanel {
  const { side, template, layout, store, session, measure, redraw } = args;
  const labels = section("Labels", "labels-section");
  const shapes = section("Shapes on slice", "shapes-section");
  const keypoints = section("Keypoints", "keypoints-section");
  const fields = section("Case", "fields-section");
  const meas = section("Measurements", "measure-section", measure.reference, measure.body);
  const revs = section("Revisions", "revisions-section", session.revisionBody);
  // Tabs: the panel stays one screen tall however many slices have measurements or revisions.
  side.append(
    sideTabs({
      shapes: [labels.root, keypoints.root, shapes.root, fields.root],
      measurements: [meas.root],
      history: [revs.root],
    }),
    labels.root,
    keypoints.root,
    shapes.root,
    fields.root,
    meas.root,
    revs.root,
  );

  const panel: SidePanel = {
    warned: new Set<string>(),
    invalid: new Set<number>(),
    refresh: () => {
      const vp = layout.active();
      const id = vp.currentImageId;
      renderLabels(labels.body, store, template, vp, redraw);
      const issues =
        id === null
          ? []
          : validateImageShapes(store.shapesOf(id), template, { rows: vp.series.rows, columns: vp.series.columns });
      const serverErrors = new Map<number, string>();
      for (const e of session.serverErrors) {
        if (String(e.image) === String(id) && e.index !== null) serverErrors.set(e.index, e.message);
      }
      replace(panel.invalid, [...issues.map((x) => x.index), ...serverErrors.keys()]);
      shapes.count.textContent = String(renderShapes(shapes.body, store, vp, issues, serverErrors));
      colourSwatches(shapes.body, template);
      replace(panel.warned, renderKeypoints(keypoints.body, store, template, vp));
      renderFields(fields.body, store, template);
    },
  };
  return panel;
}

const TAB_TITLES = { shapes: "Shapes", measurements: "Measurements", history: "History" } as const;
type Tab = keyof typeof TAB_TITLES;

/** The tab bar: one group of sections shown at a time. */
function sideTabs(groups: Record<Tab, HTMLElement[]>): HTMLElement {
  const bar = el("div", { class: "side-tabs", role: "tablist", "data-testid": "side-tabs" });
  const buttons = new Map<Tab, HTMLButtonElement>();
  const show = (tab: Tab): void => {
    for (const [name, nodes] of Object.entries(groups) as [Tab, HTMLElement[]][]) {
      for (const n of nodes) n.hidden = name !== tab;
      const b = buttons.get(name);
      b?.setAttribute("aria-selected", String(name === tab));
      b?.classList.toggle("active", name === tab);
    }
  };
  for (const name of Object.keys(TAB_TITLES) as Tab[]) {
    const b = el("button", { role: "tab", "data-testid": `side-tab-${name}` }, TAB_TITLES[name]);
    b.addEventListener("click", () => show(name));
    buttons.set(name, b);
    bar.append(b);
  }
  show("shapes");
  return bar;
}

function replace<T>(set: Set<T>, values: Iterable<T>): void {
  set.clear();
  for (const v of values) set.add(v);
}
