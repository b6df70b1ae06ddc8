/** What every annotator tool shares: the store, the template, the shape being drawn, hover and label picking. */

import type { KeypointSetDef, Point, Shape, ShapeType, Template } from "../../../contract/types";
import type { Hit } from "../../../core/geometry";
import { clampToImage, deleteVertex, hitCandidates } from "../../../core/geometry";
import { normaliseShape } from "../../../core/labelme";
import { maskContains } from "../../../core/mask";
import { labelRule } from "../../../core/validation";
import { toast } from "../../ui";
import type { PointerInfo, Viewport, ViewportTool } from "../../viewer";
import type { AnnotationStore, AnnotDoc } from "../store";

export type ToolName =
  "navigate" | "edit" | "polygon" | "rectangle" | "line" | "point" | "keypoint" | "brush" | "eraser";

/** One annotator tool: the viewport's pointer input while it is the active tool. */
export interface AnnotatorTool extends ViewportTool {
  readonly name: ToolName;
  /** The shape type it creates: activating the tool picks a label that allows it. */
  readonly creates: ShapeType | null;
  /** False: activating the tool keeps the active label (the line tool draws rulers by default). */
  readonly picksLabel?: boolean;
  /** Drop a drag in progress (tool change, slice change, Esc). */
  cancel?(): void;
}

/** How far from a vertex or edge (screen pixels) a press still takes it. */
export const HIT_TOLERANCE_PX = 6;

/** Fewest points a shape type keeps when a vertex is deleted (absent: a fixed number of points). */
const MIN_POINTS: Partial<Record<ShapeType, number>> = { polygon: 3, linestrip: 2 };

/** The viewport's image-to-screen mapping as offset + scale (it is affine). */
function affineOf(vp: Viewport): { offset: Point; scale: Point } {
  const o = vp.toScreen([0, 0]);
  const u = vp.toScreen([1, 1]);
  return { offset: o, scale: [u[0] - o[0], u[1] - o[1]] };
}

export class ToolKit {
  /** Points of the shape being drawn (polygon, rectangle, line) and the viewport it is drawn on. */
  draft: Point[] = [];
  draftView: Viewport | null = null;
  /** The pointer in image pixels (the rubber band's free end). */
  cursorImage: Point | null = null;
  hover: Hit | null = null;
  /** Every shape under the pointer, best first (Tab cycles through them), and the offset Tab chose. */
  private candidates: Hit[] = [];
  private cycle = 0;
  /** Where Tab was pressed (the choice holds while the pointer stays near) and the last pointer. */
  private cycleAt: Point | null = null;
  private lastPointer: Point | null = null;
  /** Rulers per image: line measurements drawn without a caliper label (shown, never saved). */
  readonly rulers = new Map<number, [Point, Point][]>();
  /** Brush and eraser diameter in mm. */
  brushMm = 2;

  constructor(
    readonly store: AnnotationStore,
    readonly template: Template,
    readonly redraw: () => void,
  ) {}

  clearDraft(): void {
    this.draft = [];
    this.draftView = null;
  }

  /** Pick a label that allows `type` when the active one does not. */
  ensureLabelFor(type: ShapeType): string | null {
    const cur = this.store.activeLabel;
    if (cur && labelRule(this.template, cur)?.shapeTypes.includes(type)) return cur;
    const first = this.template.labels.find((l) => l.shape_types.includes(type));
    if (!first) {
      toast(`No label of this project allows ${type} shapes`, "warn");
      return null;
    }
    this.store.activeLabel = first.name;
    this.store.emit("view");
    return first.name;
  }

  keypointSet(vp: Viewport): KeypointSetDef | null {
    const sets = this.template.keypoint_sets ?? [];
    return sets.find((s) => !s.view || s.view === vp.view) ?? null;
  }

  clamp(vp: Viewport, p: Point): Point {
    return clampToImage(p, vp.series.columns, vp.series.rows);
  }

  /** What a press at `p` takes: the hit-test's best candidate, or the one Tab cycled to while
   * the same shapes stay under the pointer. */
  hitAt(vp: Viewport, p: PointerInfo): Hit | null {
    const id = vp.currentImageId;
    const shapes = this.store.shapesOf(id);
    const sel = this.store.selection;
    const selected = new Set<number>(sel && sel.imageId === id ? [sel.index] : []);
    this.lastPointer = p.screen;
    const next = hitCandidates(shapes, p.screen, (q) => vp.toScreen(q), {
      tolerance: HIT_TOLERANCE_PX,
      selected,
      visible: (i) => this.store.isVisible(shapes[i]),
      locked: (i) => this.store.isLocked(shapes[i]),
      maskContains: (i, q) => {
        const m = this.store.maskOf(shapes[i]);
        return m ? maskContains(m, q) : false;
      },
      toImage: (s) => vp.toImage(s),
      affine: affineOf(vp),
    });
    const same = next.length === this.candidates.length && next.every((h, k) => h.shape === this.candidates[k].shape);
    const a = this.cycleAt;
    const away = !a || Math.hypot(a[0] - p.screen[0], a[1] - p.screen[1]) > HIT_TOLERANCE_PX;
    if (!same || away) this.cycle = 0;
    this.candidates = next;
    return next.length ? next[this.cycle % next.length] : null;
  }

  /** A press ended: the next hover starts from the best candidate again. */
  endPick(): void {
    this.cycle = 0;
    this.cycleAt = null;
  }

  /** Tab: hover the next shape under the pointer; false when there is no other. */
  cycleHover(): boolean {
    if (this.candidates.length < 2) return false;
    this.cycle = (this.cycle + 1) % this.candidates.length;
    this.cycleAt = this.lastPointer;
    this.hover = this.candidates[this.cycle];
    this.redraw();
    return true;
  }

  /** Add a shape on the viewport's slice, its points kept inside the image. */
  create(vp: Viewport, type: ShapeType, points: Point[], label?: string): void {
    const id = vp.currentImageId;
    if (id === null) return;
    const name = label ?? this.ensureLabelFor(type);
    if (!name) return;
    const shape = normaliseShape({ label: name, points: points.map((p) => this.clamp(vp, p)), shape_type: type });
    this.store.addShape(id, shape);
  }

  removeVertex(imageId: number, shapeIndex: number, vertex: number): void {
    const s: Shape | undefined = this.store.shapesOf(imageId)[shapeIndex];
    if (!s) return;
    const min = MIN_POINTS[s.shape_type];
    if (min === undefined) {
      toast(`A ${s.shape_type} has a fixed number of points`, "warn");
      return;
    }
    const pts = deleteVertex(s.points, vertex, min);
    if (!pts) {
      toast(`A ${s.shape_type} needs at least ${min} points`, "warn");
      return;
    }
    this.store.updateShape(imageId, shapeIndex, { ...s, points: pts });
  }
}

/** Dragging one vertex of a shape (edit and keypoint tools); one undo step when released. */
export class VertexDrag {
  private constructor(
    private readonly kit: ToolKit,
    private readonly imageId: number,
    private readonly shape: number,
    private readonly index: number,
    private readonly before: AnnotDoc,
  ) {}

  static start(kit: ToolKit, imageId: number, shape: number, index: number): VertexDrag {
    return new VertexDrag(kit, imageId, shape, index, kit.store.doc);
  }

  move(vp: Viewport, p: PointerInfo): void {
    const s = this.kit.store.shapesOf(this.imageId)[this.shape];
    if (!s) return;
    const points = s.points.slice();
    points[this.index] = this.kit.clamp(vp, p.image);
    this.kit.store.updateShape(this.imageId, this.shape, { ...s, points }, false);
  }

  end(): void {
    this.kit.store.commitFrom(this.before);
  }
}
