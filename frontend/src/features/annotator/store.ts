/** The annotation document of one read (shapes per image + case fields) with undo/redo. */

import type { CaseFields, Shape, ShapesByImage } from "../../contract/types";
import { UndoStack } from "../../core/history";
import type { PlacedMask } from "../../core/mask";
import { maskFromShape } from "../../core/mask";

export interface AnnotDoc {
  shapes: ShapesByImage;
  case_fields: CaseFields;
}

export interface Selection {
  imageId: number;
  index: number;
}

/** "drag": a change in progress (commit = false) that is not an undo step yet, nor saved. */
export type ChangeKind = "edit" | "drag" | "load" | "undo" | "select" | "view";

export class AnnotationStore {
  private history: UndoStack<AnnotDoc>;
  private listeners: ((kind: ChangeKind) => void)[] = [];
  private masks = new WeakMap<Shape, PlacedMask | null>();
  /** Locked shapes (by object: shapes are immutable) are never hit, moved or deleted. */
  private locked = new WeakSet<Shape>();
  selection: Selection | null = null;
  hiddenLabels = new Set<string>();
  allHidden = false;
  /** Measurement chords shown (Shift+H); Hide all hides them regardless. */
  chordsShown = true;
  opacity = 0.35;
  editable = true;
  activeLabel: string | null = null;

  constructor(doc: AnnotDoc = { shapes: {}, case_fields: {} }) {
    this.history = new UndoStack(doc);
  }

  get doc(): AnnotDoc {
    return this.history.current;
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  onChange(fn: (kind: ChangeKind) => void): void {
    this.listeners.push(fn);
  }

  emit(kind: ChangeKind): void {
    for (const l of this.listeners) l(kind);
  }

  shapesOf(imageId: number | null): Shape[] {
    if (imageId === null) return [];
    return this.doc.shapes[String(imageId)] ?? [];
  }

  /** Replace the whole document (a loaded revision); history starts over. */
  load(doc: AnnotDoc): void {
    this.history.reset(doc);
    this.selection = null;
    this.emit("load");
  }

  /** Set the shapes of one image. `commit` false updates in place (during a drag) without an undo step. */
  setShapes(imageId: number, shapes: Shape[], commit = true): void {
    const next: AnnotDoc = { ...this.doc, shapes: { ...this.doc.shapes, [String(imageId)]: shapes } };
    if (shapes.length === 0) delete next.shapes[String(imageId)];
    if (commit) this.history.push(next);
    else this.history.replace(next);
    this.emit(commit ? "edit" : "drag");
  }

  /** Mark the current state as one undo step (after a drag that used commit = false). */
  commitFrom(before: AnnotDoc): void {
    const now = this.doc;
    if (now === before) return;
    this.history.replace(before);
    this.history.push(now);
    this.emit("edit");
  }

  setCaseField(name: string, value: unknown): void {
    this.history.push({ ...this.doc, case_fields: { ...this.doc.case_fields, [name]: value } });
    this.emit("edit");
  }

  addShape(imageId: number, shape: Shape): number {
    const list = [...this.shapesOf(imageId), shape];
    this.setShapes(imageId, list);
    this.selection = { imageId, index: list.length - 1 };
    return list.length - 1;
  }

  updateShape(imageId: number, index: number, shape: Shape, commit = true): void {
    const list = this.shapesOf(imageId).slice();
    if (list[index] && this.locked.has(list[index])) return;
    list[index] = shape;
    this.setShapes(imageId, list, commit);
  }

  deleteShape(imageId: number, index: number): void {
    const list = this.shapesOf(imageId).slice();
    if (list[index] && this.locked.has(list[index])) return;
    list.splice(index, 1);
    this.selection = null;
    this.setShapes(imageId, list);
  }

  duplicate(imageId: number, index: number, offset: number): void {
    const s = this.shapesOf(imageId)[index];
    if (!s) return;
    const copy: Shape = { ...s, points: s.points.map((p) => [p[0] + offset, p[1] + offset] as [number, number]) };
    this.addShape(imageId, copy);
  }

  undo(): void {
    if (this.history.undo()) {
      this.selection = null;
      this.emit("undo");
    }
  }

  redo(): void {
    if (this.history.redo()) {
      this.selection = null;
      this.emit("undo");
    }
  }

  select(sel: Selection | null): void {
    this.selection = sel;
    this.emit("select");
  }

  isLocked(shape: Shape): boolean {
    return this.locked.has(shape);
  }

  /** Lock or unlock a shape (not an edit: no undo step, not saved). */
  toggleLock(imageId: number, index: number): void {
    const s = this.shapesOf(imageId)[index];
    if (!s) return;
    if (this.locked.has(s)) this.locked.delete(s);
    else this.locked.add(s);
    this.emit("view");
  }

  isVisible(shape: Shape): boolean {
    return !this.allHidden && !this.hiddenLabels.has(shape.label);
  }

  /** Decoded mask of a mask shape (cached per shape object: shapes are immutable). */
  maskOf(shape: Shape): PlacedMask | null {
    if (this.masks.has(shape)) return this.masks.get(shape) ?? null;
    let m: PlacedMask | null;
    try {
      m = maskFromShape(shape);
    } catch {
      m = null;
    }
    this.masks.set(shape, m);
    return m;
  }

  /** Remember the decoded mask of a shape we built from one (skips decoding our own PNG). */
  rememberMask(shape: Shape, m: PlacedMask): void {
    this.masks.set(shape, m);
  }
}
