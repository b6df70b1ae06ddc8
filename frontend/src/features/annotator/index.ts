/** Annotator feature: tools, shapes, keypoints, case fields, autosaved reads and the measurement panel on the viewer. */

import type { CaseInfo } from "../../contract/types";
import { MeasurePanel } from "../measure";
import { ReadSession } from "../reads";
import { toast } from "../ui";
import type { Viewport, ViewerLayout } from "../viewer";
import { showImage } from "../viewer";
import { mountAppBar } from "./appbar";
import { draftStatus } from "./draftStatus";
import { installFitToAnatomy } from "./fitAnatomy";
import { annotatorKeys } from "./keys";
import { installOverlays } from "./overlay";
import { mountToolRail } from "./rail";
import { mountSidePanel } from "./sidePanel";
import { AnnotationStore } from "./store";
import { SuggestionLayer } from "./suggestions";
import { ToolBox } from "./tools";

export { AnnotationStore } from "./store";
export type { SuggestionLayer } from "./suggestions";
// The review page draws every read with the annotator's renderer.
export type { DrawOptions } from "./render";
export { drawChords, drawShapes, tintedTemplate } from "./render";
export type { ToolName } from "./tools";

export interface AnnotatorParts {
  store: AnnotationStore;
  tools: ToolBox;
  session: ReadSession;
  /** Pre-labels the model withheld (under its calibrated threshold): ghosts, the Y key, the list. */
  suggestions: SuggestionLayer;
  handleKey(e: KeyboardEvent, vp: Viewport): boolean;
}

export function mountAnnotator(args: {
  caseInfo: CaseInfo;
  layout: ViewerLayout;
  toolrail: HTMLElement;
  appbar: HTMLElement;
  side: HTMLElement;
  hint: HTMLElement;
  username: string;
  role: string;
  /** Offer "Start my read" (the page says who may; reviewers and leads edit the gold read). */
  mayStartRead?: boolean;
}): AnnotatorParts {
  const { caseInfo, layout } = args;
  const template = caseInfo.project.template ?? { labels: [] };
  template.labels ??= [];
  const store = new AnnotationStore();
  store.activeLabel = template.labels[0]?.name ?? null;
  const draft = draftStatus();
  args.hint.before(draft.root);
  const redraw = () => {
    for (const vp of layout.viewports) vp.invalidate(false);
    draft.update(tools.draft());
  };
  const tools = new ToolBox(store, template, redraw);
  const session = new ReadSession(caseInfo.id, store, args.role);
  session.username = args.username;
  session.mayStart = args.mayStartRead ?? true;
  const spacing = new Map<string, readonly [number, number]>();
  for (const sr of caseInfo.series) for (const im of sr.images) spacing.set(String(im.id), sr.pixel_spacing);
  session.spacingOf = (image) => spacing.get(image) ?? null;
  const measure = new MeasurePanel(caseInfo.id, caseInfo.series);
  measure.onChords = redraw;

  // Tool rail.
  const rail = mountToolRail({ toolrail: args.toolrail, hint: args.hint, tools, store });
  for (const vp of layout.viewports) vp.tool = tools;

  // App bar: read selector, save state, live, labelme.
  mountAppBar({ appbar: args.appbar, caseInfo, layout, store, session });

  // Side panel.
  const panel = mountSidePanel({ side: args.side, template, layout, store, session, measure, redraw });
  const refresh = () => {
    panel.refresh();
    rail.refresh();
    redraw();
  };
  const allShapes = () => store.doc.shapes;
  store.onChange((kind) => {
    // A drag is saved once, when it ends (its commit is an "edit").
    if (kind === "edit" || kind === "undo") session.edited();
    if (kind === "edit" || kind === "undo" || kind === "drag") measure.schedule(allShapes());
    if (kind === "load") measure.schedule(allShapes(), 0);
    refresh();
  });
  const suggestions = new SuggestionLayer(store, caseInfo.series, (id) => showImage(layout, id));
  suggestions.onChange = redraw;
  session.onLoaded = () => {
    refresh();
    suggestions.follow(session.reads);
  };
  session.onErrors = refresh;
  layout.onActiveChange(refresh);
  for (const vp of layout.viewports) {
    vp.sliceListeners.push(() => {
      if (tools.kit.draftView === vp) tools.cancelDraft();
      if (vp === layout.active()) refresh();
    });
  }

  installFitToAnatomy(layout, store);

  // Overlays and keys.
  installOverlays({ layout, template, store, tools, measure, panel, suggestions });
  const handleKey = annotatorKeys({ template, store, tools, session, redraw, suggestions });

  void session
    .start()
    .catch((e) => toast(`Could not load the reads: ${e instanceof Error ? e.message : String(e)}`, "error", 8000));
  refresh();
  return { store, tools, session, suggestions, handleKey };
}
