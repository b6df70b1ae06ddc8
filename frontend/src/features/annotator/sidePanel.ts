/** The annotator's side panel: labels, keypoints, shapes of the slice, case fields, measurements, revisions. */

import type { Template } from "../../contract/types";
import { validateImageShapes } from "../../core/validation";
import type { MeasurePanel } from "../measure";
import type { ReadSession } from "../reads";
import { section } from "../ui";
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
  side.append(labels.root, keypoints.root, shapes.root, fields.root, meas.root, revs.root);

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

function replace<T>(set: Set<T>, values: Iterable<T>): void {
  set.clear();
  for (const v of values) set.add(v);
}
