/** Withheld pre-labels on the annotator: ghost markers over the image while the user's own read is open, one key (Y) to take one into that read, and the list of what was withheld and why. */

import { getJSON } from "../../api/client";
import type { Point, ReadInfo, SeriesInfo } from "../../contract/types";
import type { Suggestion } from "../../core/suggestions";
import { openOn, parseSuggestions, pickSuggestion, suggestionShape, withheldText } from "../../core/suggestions";
import { el, toast } from "../ui";
import type { Viewport } from "../viewer";
import type { AnnotationStore } from "./store";
import { withheldRows } from "./withheld";

const GHOST = "rgba(255,255,255,.85)";
/** More withheld pre-labels than this start folded under their summary line. */
const FOLD_OVER = 5;

export class SuggestionLayer {
  items: Suggestion[] = [];
  /** The model read whose withheld pre-labels are loaded (null: none). */
  readId: number | null = null;
  private readonly itemList = el("ul", { class: "withheld-list" });
  private readonly summary = el("summary", { "data-testid": "withheld-summary" });
  /** What was withheld and why: one summary line, the items folded under it when there are
   * many (a real scan can withhold an outline on every slice). */
  readonly list = el(
    "details",
    { class: "withheld", "data-testid": "withheld-list", hidden: true },
    this.summary,
    this.itemList,
  );
  onChange: () => void = () => {};

  constructor(
    private readonly store: AnnotationStore,
    /** The case's series, to name the slice each withheld pre-label is on. */
    private readonly series: readonly SeriesInfo[],
    /** Open the viewer on an image (a list item's slice name is a link to its slice). */
    private readonly showImage: (imageId: number) => void,
  ) {}

  /** Follow the case's newest model read (the one the latest pre-label wrote). */
  follow(reads: readonly ReadInfo[]): void {
    const model = reads
      .filter((r) => r.kind === "model")
      .reduce<ReadInfo | null>((a, r) => (a && a.id > r.id ? a : r), null);
    if (model && model.id !== this.readId) void this.load(model.id);
  }

  async load(readId: number): Promise<void> {
    this.readId = readId;
    let items: Suggestion[] = [];
    try {
      items = parseSuggestions(await getJSON<unknown>(`/api/reads/${readId}/suggestions`));
    } catch {
      /* not visible to this user (an unaided role), or an older server: no suggestions */
    }
    if (this.readId !== readId) return;
    this.items = items;
    this.renderList();
    this.onChange();
  }

  private renderList(): void {
    const n = this.items.length;
    this.summary.textContent = `${n} pre-label${n === 1 ? "" : "s"} withheld as suggestions (Y takes the nearest)`;
    this.list.open = n <= FOLD_OVER;
    // Each item names its series and slice, a link that opens the viewer there ("sagittal · slice 5/9 —
    // C5_AI withheld: confidence 0.42 below 0.60"), in slice order.
    this.itemList.replaceChildren(
      ...withheldRows(this.items, this.series).map(({ item: s, slice }) => {
        const go = el(
          "button",
          { type: "button", class: "link", "data-testid": "withheld-slice", title: "Show this slice" },
          slice,
        );
        go.addEventListener("click", () => this.showImage(s.image));
        return el(
          "li",
          {
            "data-testid": "withheld-item",
            "data-label": s.label,
            "data-image": String(s.image),
            title: `raw score ${s.raw_confidence.toFixed(2)}`,
          },
          go,
          ` — ${withheldText(s)}`,
        );
      }),
    );
    this.list.hidden = !this.items.length;
  }

  /** Suggestions still open on the viewport's slice: only while the user's own (editable) read is open. */
  open(v: Viewport): Suggestion[] {
    if (!this.store.editable) return [];
    const id = v.currentImageId;
    return openOn(this.items, id, this.store.shapesOf(id));
  }

  draw(ctx: CanvasRenderingContext2D, v: Viewport): void {
    const open = this.store.allHidden ? [] : this.open(v);
    const labels = open.map((s) => s.label).join(",");
    if ((v.canvas.dataset.suggestions ?? "") !== labels) {
      if (labels) v.canvas.dataset.suggestions = labels;
      else delete v.canvas.dataset.suggestions;
    }
    if (!open.length) return;
    // The one Y would take (nearest the pointer) is named and ringed; the others stay quiet ghosts.
    const next = v.pointer ? pickSuggestion(open, v.pointer.image) : null;
    ctx.save();
    ctx.strokeStyle = GHOST;
    ctx.fillStyle = GHOST;
    ctx.font = "11px sans-serif";
    for (const s of open) {
      const scr = s.points.map((p) => v.toScreen(p));
      const first = scr[0];
      if (!first) continue;
      ctx.lineWidth = s === next ? 2.5 : 1.25;
      ctx.setLineDash(s === next ? [] : [3, 3]);
      ctx.beginPath();
      if (s.shape_type === "point") ctx.arc(first[0], first[1], 7, 0, Math.PI * 2);
      else {
        ctx.moveTo(first[0], first[1]);
        for (const [x, y] of scr.slice(1)) ctx.lineTo(x, y);
        ctx.closePath();
      }
      ctx.stroke();
      // A dark halo keeps the name legible on bright tissue.
      if (s === next) {
        ctx.shadowColor = "rgba(0,0,0,.9)";
        ctx.shadowBlur = 3;
        ctx.fillText(`${s.label}? ${s.confidence.toFixed(2)} · Y accepts`, first[0] + 10, first[1] - 10);
        ctx.shadowBlur = 0;
      }
    }
    ctx.restore();
  }

  /** The key: the suggestion nearest the pointer (else the slice's first) becomes a shape of the user's read. */
  accept(v: Viewport): boolean {
    const open = this.open(v);
    const id = v.currentImageId;
    if (!this.store.editable) {
      if (this.items.length) toast("Start or open your read to accept a suggestion", "info", 2000);
      return this.items.length > 0;
    }
    const pointer: Point | null = v.pointer ? v.pointer.image : null;
    const pick = pickSuggestion(open, pointer);
    if (!pick || id === null) {
      if (this.items.length) toast("No suggestion on this slice", "info", 1500);
      return this.items.length > 0;
    }
    this.store.addShape(id, suggestionShape(pick));
    toast(`Accepted ${pick.label} (confidence ${pick.confidence.toFixed(2)})`, "info", 1500);
    return true;
  }
}
