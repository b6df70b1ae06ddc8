/** The case page: loads the case, lays out app bar, tool rail, viewports, side panel and status bar. */

import { ApiError, getJSON } from "../../api/client";
import type { CaseInfo } from "../../contract/types";
import { formatMm } from "../../core/geometry";
import { chord, fromTextField } from "../keyboard";
import { el, section, toast } from "../ui";
import type { Viewport } from "../viewer";
import { createViewerLayout } from "../viewer";
import { mountAnnotator } from "../annotator";
import type { AnnotatorParts } from "../annotator";
import { JobPanel } from "../jobs";
import { mountCommentPins } from "../review";
import { showHelp } from "./help";

export interface PageContext {
  caseId: number;
  project: string;
  username: string;
  role: string;
  /** May request pre-labelling (stated by the server from annotation/permissions.py). */
  mayPrelabel: boolean;
  prevCase: string | null;
  nextCase: string | null;
}

export function pageContext(root: HTMLElement): PageContext {
  const d = root.dataset;
  return {
    caseId: Number(d.caseId),
    project: d.project ?? "",
    username: d.username ?? "",
    role: d.role ?? "annotator",
    mayPrelabel: d.mayPrelabel !== undefined,
    prevCase: d.prevCase ?? null,
    nextCase: d.nextCase ?? null,
  };
}

export interface Shell {
  root: HTMLElement;
  appbar: HTMLElement;
  toolrail: HTMLElement;
  side: HTMLElement;
  statusbar: HTMLElement;
  cursorLabel: HTMLElement;
  hint: HTMLElement;
}

function buildShell(caseInfo: CaseInfo, viewports: HTMLElement): Shell {
  const appbar = el(
    "div",
    { class: "appbar", "data-testid": "appbar" },
    el("span", { class: "title", "data-testid": "case-title" }, caseInfo.pseudonym),
    el("span", { class: "badge", "data-testid": "case-state" }, caseInfo.state),
    el(
      "a",
      { class: "link", href: `/cases/${caseInfo.id}/history`, "data-testid": "history-link", title: "Case history" },
      "History",
    ),
    el(
      "a",
      {
        class: "link",
        href: `/cases/${caseInfo.id}/measurements`,
        "data-testid": "measurements-link",
        title: "Every visible read's measurements side by side",
      },
      "Measurements",
    ),
  );
  const toolrail = el("div", { class: "toolrail", "data-testid": "toolrail" });
  const side = el("aside", { class: "sidepanel", "data-testid": "sidepanel" });
  const cursorLabel = el("span", { "data-testid": "cursor-label" });
  const hint = el("span", { class: "grow", "data-testid": "hint" });
  const statusbar = el("div", { class: "statusbar" }, cursorLabel, hint);
  const root = el("div", { class: "shell" }, appbar, toolrail, viewports, side, statusbar);
  return { root, appbar, toolrail, side, statusbar, cursorLabel, hint };
}

/** Keys every role has: slice scrolling, presets, zoom, invert, reset, help, case navigation. */
export function viewerKey(
  e: KeyboardEvent,
  vp: Viewport,
  ctx: PageContext,
  all: Viewport[],
  setActive: (v: Viewport) => void,
): boolean {
  const c = chord(e);
  switch (c) {
    case "arrowup":
    case "arrowleft":
      vp.scroll(-1);
      return true;
    case "arrowdown":
    case "arrowright":
      vp.scroll(1);
      return true;
    case "pageup":
      vp.scroll(-5);
      return true;
    case "pagedown":
      vp.scroll(5);
      return true;
    case "home":
      vp.setSlice(0);
      return true;
    case "end":
      vp.setSlice(vp.series.images.length - 1);
      return true;
    case "1":
    case "2":
    case "3":
    case "4":
    case "5":
      vp.applyPreset(Number(c) - 1);
      return true;
    case " ":
      vp.reset();
      return true;
    case "i":
      vp.toggleInvert();
      return true;
    case "f":
      vp.fit();
      return true;
    case "+":
    case "=":
      vp.zoomBy(1.25);
      return true;
    case "-":
      vp.zoomBy(0.8);
      return true;
    case "tab": {
      const i = all.indexOf(vp);
      const next = all[(i + 1) % all.length];
      if (next) setActive(next);
      return true;
    }
    case "?":
    case "shift+?":
      showHelp();
      return true;
    case "d":
      if (ctx.nextCase) location.assign(`/cases/${ctx.nextCase}/`);
      else toast("This is the last case of the list");
      return true;
    case "a":
      if (ctx.prevCase) location.assign(`/cases/${ctx.prevCase}/`);
      else toast("This is the first case of the list");
      return true;
    default:
      return false;
  }
}

/** Pre-label section at the top of the side panel, for those who may pre-label (not readers, who work unaided). */
function mountJobPanel(ctx: PageContext, annotator: AnnotatorParts, side: HTMLElement): void {
  if (!ctx.mayPrelabel) return;
  const session = annotator.session;
  const panel = new JobPanel({
    caseId: ctx.caseId,
    canRequest: true,
    openRead: (readId) => session.show(readId),
    onSucceeded: (job) => {
      if (job.read !== null) {
        void session.ensureRead(job.read);
        void annotator.suggestions.load(job.read);
      }
    },
    live: () => session.livePill.dataset.live === "on",
  });
  session.onJob = (job) => panel.apply(job);
  session.onReconnected = () => void panel.loadLatest();
  // What the model withheld and why ("C5_AI withheld: confidence 0.42 below 0.60").
  const part = section("Pre-label", "prelabel-section", panel.root, annotator.suggestions.list);
  side.prepend(part.root);
  void panel.loadLatest();
}

/** The case as the server embedded it in the page (saves a round trip), if it is there. */
function embeddedCase(caseId: number): CaseInfo | null {
  const node = document.getElementById("case-data");
  if (!node?.textContent) return null;
  try {
    const data = JSON.parse(node.textContent) as CaseInfo;
    return data.id === caseId ? data : null;
  } catch {
    return null;
  }
}

export async function mountCasePage(root: HTMLElement): Promise<void> {
  const ctx = pageContext(root);
  let caseInfo: CaseInfo;
  try {
    caseInfo = embeddedCase(ctx.caseId) ?? (await getJSON<CaseInfo>(`/api/cases/${ctx.caseId}`));
  } catch (e) {
    root.append(
      el(
        "div",
        { class: "empty-state", "data-testid": "load-error" },
        `Could not open this case: ${e instanceof ApiError ? e.message : String(e)}`,
      ),
    );
    return;
  }
  const layout = createViewerLayout(caseInfo);
  const shell = buildShell(caseInfo, layout.root);
  root.append(shell.root);
  const helpBtn = el("button", { "data-testid": "help-button", title: "Keyboard shortcuts (?)" }, "?");
  helpBtn.addEventListener("click", () => showHelp());
  shell.appbar.append(el("span", { class: "grow" }), helpBtn);
  if (root.dataset.mayReview !== undefined) {
    // Reviewers and leads adjudicate the case on its review page.
    const review = el(
      "a",
      { class: "button", "data-testid": "open-review", href: `/cases/${caseInfo.id}/review` },
      "Review",
    );
    helpBtn.before(review);
  }

  for (const vp of layout.viewports) {
    vp.canvas.addEventListener("pointermove", () => {
      const p = vp.pointer;
      if (!p) return;
      const [x, y] = p.image;
      const [sr, sc] = vp.series.pixel_spacing;
      const inside = x >= 0 && y >= 0 && x < vp.series.columns && y < vp.series.rows;
      const px = vp.pixels;
      const value = inside && px ? px[Math.floor(y) * vp.series.columns + Math.floor(x)] : undefined;
      shell.cursorLabel.textContent = inside
        ? `x ${x.toFixed(1)}  y ${y.toFixed(1)} px · ${formatMm(x * sc)}, ${formatMm(y * sr)} · value ${value === undefined ? "—" : Number(value).toFixed(Number.isInteger(value) ? 0 : 3)}`
        : "";
    });
  }
  const annotator = layout.viewports.length
    ? mountAnnotator({
        caseInfo,
        layout,
        toolrail: shell.toolrail,
        appbar: shell.appbar,
        side: shell.side,
        hint: shell.hint,
        username: ctx.username,
        role: ctx.role,
        mayStartRead: root.dataset.mayReview === undefined,
      })
    : null;
  if (annotator) {
    const badge = shell.appbar.querySelector<HTMLElement>("[data-testid=case-state]");
    annotator.session.onCaseState = (state) => {
      if (badge) badge.textContent = state;
    };
    mountJobPanel(ctx, annotator, shell.side);
    // The review's comments on this case (a returned case: the reviewer's pins).
    void mountCommentPins({ caseInfo, layout, side: shell.side });
  }
  document.addEventListener("keydown", (e) => {
    if (fromTextField(e) || document.querySelector(".modal-back")) {
      if (e.key === "Escape" && document.querySelector("[data-testid=help-overlay]"))
        document.querySelector(".modal-back")?.remove();
      return;
    }
    const vp = layout.active();
    if (!vp) return;
    if (annotator?.handleKey(e, vp) || viewerKey(e, vp, ctx, layout.viewports, (v) => layout.setActive(v)))
      e.preventDefault();
  });
}
