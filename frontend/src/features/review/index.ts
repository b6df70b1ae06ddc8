/** Review page: every read the reviewer may see over one viewer, agreement and measurements side by side, gold
 * composed per structure, comment pins, return and sign (docs/API.md, "Review and gold standard"). */

import { coalesced } from "../../core/coalesce";
import { keypointSlice } from "../../core/keypoints";
import "./review.css";

export { mountCommentPins } from "./pins";
import { ApiError } from "../../api/client";
import type { LiveEvent } from "../../api/live";
import { LiveSocket } from "../../api/live";
import type { CaseInfo } from "../../contract/types";
import { chord, fromTextField } from "../keyboard";
import { clear, el, section, toast } from "../ui";
import type { Viewport } from "../viewer";
import { createViewerLayout } from "../viewer";
import type { Comment, ReadMeasurements, ReviewPayload } from "./api";
import { reviewApi } from "./api";
import { openCommentForm, renderComments } from "./comments";
import type { CommentsHost } from "./comments";
import { renderCompose } from "./compose";
import type { ImageLabel } from "./model";
import { drawReads, PinTool } from "./overlay";
import { renderAgreement, renderLegend, renderMeasurements } from "./panels";
import { signOrExplain, returnForm } from "./decide";

// Slice keys as on the case page (the review page has no tools to take other keys).
const SCROLL_KEYS: Record<string, number> = {
  arrowup: -1,
  arrowleft: -1,
  arrowdown: 1,
  arrowright: 1,
  pageup: -5,
  pagedown: 5,
};

function embeddedCase(): CaseInfo | null {
  const node = document.getElementById("case-data");
  try {
    return node?.textContent ? (JSON.parse(node.textContent) as CaseInfo) : null;
  } catch {
    return null;
  }
}

function imageLabels(info: CaseInfo): Map<number, ImageLabel> {
  const out = new Map<number, ImageLabel>();
  for (const s of info.series)
    for (const im of s.images) out.set(im.id, { id: im.id, view: s.orientation, index: im.index });
  return out;
}

class ReviewPage {
  payload: ReviewPayload | null = null;
  private opened = false;
  measured: ReadMeasurements[] = [];
  comments: Comment[] = [];
  readonly shown = new Set<number>();
  private readonly known = new Set<number>();
  selectedPin: number | null = null;
  readonly images: Map<number, ImageLabel>;
  readonly layout;
  readonly pin: PinTool;
  readonly parts = {
    legend: section("Reads", "reads-section"),
    gold: section("Gold standard", "gold-section"),
    agreement: section("Agreement", "agreement-section"),
    measurements: section("Measurements", "measurements-section"),
    comments: section("Comments", "comments-section"),
  };
  readonly stateBadge = el("span", { class: "badge", "data-testid": "case-state" });
  readonly goldPill = el("span", { class: "pill", "data-testid": "gold-status" });
  readonly banner = el("div", { class: "review-banner", "data-testid": "review-banner", hidden: true });
  readonly pinButton = el(
    "button",
    { "data-testid": "pin-mode", title: "Click on the image to pin a comment" },
    "Pin comment",
  );

  constructor(
    readonly info: CaseInfo,
    readonly root: HTMLElement,
  ) {
    this.images = imageLabels(info);
    this.layout = createViewerLayout(info);
    this.pin = new PinTool((vp, [x, y]) => {
      this.setPinning(false);
      const image = vp.currentImageId;
      if (image !== null) openCommentForm(this.parts.comments.body, this.commentsHost(), { image, x, y });
    });
    for (const vp of this.layout.viewports) {
      vp.tool = this.pin;
      vp.drawers.push((ctx, v) => this.draw(ctx, v));
    }
  }

  draw(ctx: CanvasRenderingContext2D, vp: Viewport): void {
    drawReads(ctx, vp, this.info.project.template, {
      reads: () => this.payload?.reads ?? [],
      shown: this.shown,
      pins: () => this.comments,
      selectedPin: () => this.selectedPin,
    });
  }

  redraw(): void {
    for (const vp of this.layout.viewports) vp.invalidate(false);
  }

  setPinning(on: boolean): void {
    this.pin.active = on;
    this.pinButton.classList.toggle("on", on);
    this.pinButton.textContent = on ? "Click the image…" : "Pin comment";
  }

  commentsHost(): CommentsHost {
    return {
      payload: () => this.payload as ReviewPayload,
      comments: () => this.comments,
      images: this.images,
      selected: () => this.selectedPin,
      select: (c) => this.showComment(c),
      reload: () => this.reload(),
    };
  }

  showComment(c: Comment): void {
    this.selectedPin = c.id;
    if (c.image !== null) {
      for (const vp of this.layout.viewports) {
        const series = vp.seriesChoices.find((s) => s.images.some((im) => im.id === c.image));
        if (!series || (series.orientation !== vp.series.orientation && this.layout.viewports.length > 1)) continue;
        if (series.id !== vp.series.id) vp.setSeries(series);
        vp.setSlice(series.images.findIndex((im) => im.id === c.image));
        break;
      }
    }
    renderComments(this.parts.comments.body, this.commentsHost());
    this.redraw();
  }

  showBanner(text: string | null): void {
    this.banner.hidden = text === null;
    this.banner.textContent = text ?? "";
  }

  /** Reload everything the page shows (after an action or a live event); overlapping calls coalesce. */
  readonly reload = coalesced(() => this.load());

  private async load(): Promise<void> {
    const id = this.info.id;
    const [payload, measured, comments] = await Promise.all([
      reviewApi.payload(id),
      reviewApi.measurements(id),
      reviewApi.comments(id),
    ]);
    this.payload = payload;
    this.measured = measured.reads;
    this.comments = comments;
    // A read seen for the first time is shown (imported ones start hidden); later toggles stay.
    for (const r of payload.reads) {
      if (this.known.has(r.id)) continue;
      this.known.add(r.id);
      if (r.kind !== "imported") this.shown.add(r.id);
    }
    if (!this.opened) this.openOnCorners(payload);
    this.render();
  }

  /** On the first load, each viewport opens on the slice where the reads put their corners
   * (the slice the review is about), not on its series' middle slice. */
  private openOnCorners(payload: ReviewPayload): void {
    this.opened = true;
    const shapesOf = (id: number) => payload.reads.flatMap((r) => r.revision?.shapes[String(id)] ?? []);
    for (const vp of this.layout.viewports) {
      const slice = keypointSlice(vp.series.images, vp.index, shapesOf);
      if (slice !== null) vp.setSlice(slice);
    }
  }

  render(): void {
    const p = this.payload;
    if (!p) return;
    this.stateBadge.textContent = p.case.state;
    this.root.dataset.caseState = p.case.state;
    const g = p.gold;
    this.goldPill.dataset.state = g.signed ? "saved" : g.head ? "pending" : "offline";
    this.goldPill.textContent = g.signed
      ? `Gold signed by ${g.signature?.signed_by.username ?? "?"}`
      : g.head
        ? g.signature
          ? "Gold changed since signing: sign again"
          : "Gold not signed"
        : "No gold yet";
    renderLegend(this.parts.legend.body, p, this.shown, () => this.redraw());
    this.parts.legend.count.textContent = String(p.reads.length);
    this.renderGold();
    renderAgreement(this.parts.agreement.body, p);
    renderMeasurements(this.parts.measurements.body, p.reads, this.measured, this.images);
    renderComments(this.parts.comments.body, this.commentsHost());
    this.parts.comments.count.textContent = String(
      this.comments.filter((c) => c.parent === null && !c.resolved).length,
    );
    this.redraw();
  }

  private renderGold(): void {
    const p = this.payload as ReviewPayload;
    const body = this.parts.gold.body;
    clear(body);
    const compose = el("div", { "data-testid": "compose" });
    renderCompose(compose, { payload: () => p, shown: this.shown, reload: () => this.reload() });
    const edit = el(
      "a",
      {
        class: "button",
        "data-testid": "edit-gold",
        href: p.gold.read ? `/cases/${p.case.id}/?read=${p.gold.read}` : "#",
        title: "Edit the gold in the annotator's tools",
      },
      "Edit gold in the annotator",
    );
    if (!p.gold.read) {
      edit.addEventListener("click", (e) => {
        e.preventDefault();
        void reviewApi.openGold(p.case.id).then((gold) => location.assign(`/cases/${p.case.id}/?read=${gold.id}`));
      });
    }
    body.append(compose, el("div", { class: "row" }, edit));
  }

  mount(): void {
    const sign = el("button", { class: "primary", "data-testid": "sign" }, "Sign gold");
    const giveBack = el("button", { "data-testid": "return" }, "Return…");
    const comment = el("button", { "data-testid": "comment-case" }, "Comment");
    sign.addEventListener("click", () => {
      if (this.payload) void signOrExplain(this.payload, (t) => this.showBanner(t)).then(() => this.reload());
    });
    giveBack.addEventListener("click", () => {
      if (this.payload)
        returnForm(
          this.parts.comments.body,
          this.payload,
          (t) => this.showBanner(t),
          () => this.reload(),
        );
    });
    comment.addEventListener("click", () => openCommentForm(this.parts.comments.body, this.commentsHost(), null));
    this.pinButton.addEventListener("click", () => this.setPinning(!this.pin.active));
    const appbar = el(
      "div",
      { class: "appbar", "data-testid": "appbar" },
      el("span", { class: "title", "data-testid": "case-title" }, `Review · ${this.info.pseudonym}`),
      this.stateBadge,
      this.goldPill,
      el("span", { class: "grow" }),
      this.pinButton,
      comment,
      el("span", { class: "sep" }),
      giveBack,
      sign,
    );
    const side = el(
      "aside",
      { class: "sidepanel", "data-testid": "sidepanel" },
      ...Object.values(this.parts).map((p) => p.root),
    );
    this.root.append(el("div", { class: "review-shell" }, appbar, this.banner, this.layout.root, side));
    document.addEventListener("keydown", (e) => {
      if (fromTextField(e)) return;
      const vp = this.layout.active();
      const step = SCROLL_KEYS[chord(e)];
      if (chord(e) === "escape") this.setPinning(false);
      else if (vp && step !== undefined) {
        vp.scroll(step);
        e.preventDefault();
      }
    });
    new LiveSocket(this.info.id, (e: LiveEvent) => {
      if (e.type !== "pong") void this.reload();
    });
  }
}

export async function mountReviewPage(root: HTMLElement): Promise<void> {
  const info = embeddedCase();
  if (!info) {
    root.append(el("div", { class: "empty-state" }, "Could not open this case."));
    return;
  }
  const page = new ReviewPage(info, root);
  page.mount();
  try {
    await page.reload();
  } catch (e) {
    toast(`Could not load the review: ${e instanceof ApiError ? e.message : String(e)}`, "error", 10000);
  }
}
