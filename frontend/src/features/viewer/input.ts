/** Mouse input of a viewport: wheel (slices, Ctrl: zoom), middle- or Shift-drag (pan), right-drag
 * (window/level), left button (the active tool, else window/level). */

import type { Window } from "../../core/windowLevel";
import type { Viewport } from "./viewport";

type Drag =
  { kind: "wl"; x: number; y: number; start: Window } | { kind: "pan"; x: number; y: number } | { kind: "tool" } | null;

/** Wheel delta of one notch: one slice. */
const NOTCH = 50;

export function bindViewportInput(vp: Viewport): void {
  const c = vp.canvas;
  let drag: Drag = null;
  let wheelAccum = 0;
  const wlDrag = (e: PointerEvent): Drag => ({
    kind: "wl",
    x: e.clientX,
    y: e.clientY,
    start: { center: vp.wl.center, width: vp.wl.width },
  });

  c.addEventListener("contextmenu", (e) => e.preventDefault());
  c.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      vp.activateListener?.(vp);
      if (e.ctrlKey || e.metaKey) {
        vp.zoomBy(Math.exp(-e.deltaY * 0.0015), vp.pointerAt(e).screen);
        return;
      }
      // One notch is one slice; trackpads send small deltas that add up.
      wheelAccum += e.deltaMode === 1 ? e.deltaY * 40 : e.deltaY;
      const steps = Math.trunc(wheelAccum / NOTCH) || (Math.abs(e.deltaY) >= NOTCH ? Math.sign(e.deltaY) : 0);
      if (steps !== 0) {
        wheelAccum = 0;
        vp.scroll(steps > 0 ? Math.min(steps, 5) : Math.max(steps, -5));
      }
    },
    { passive: false },
  );
  c.addEventListener("pointerdown", (e) => {
    vp.activateListener?.(vp);
    c.focus({ preventScroll: true });
    if (e.button === 1 || (e.button === 0 && e.shiftKey)) drag = { kind: "pan", x: e.clientX, y: e.clientY };
    else if (e.button === 2) drag = wlDrag(e);
    else if (e.button === 0) drag = vp.tool?.down(vp, vp.pointerAt(e)) ? { kind: "tool" } : wlDrag(e);
    else return;
    c.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  c.addEventListener("pointermove", (e) => {
    const p = vp.pointerAt(e);
    vp.pointer = p;
    const d = drag;
    if (d?.kind === "pan") {
      vp.pan(e.clientX - d.x, e.clientY - d.y);
      d.x = e.clientX;
      d.y = e.clientY;
    } else if (d?.kind === "wl") {
      vp.dragWindowFrom(d.start, e.clientX - d.x, e.clientY - d.y);
    } else {
      vp.tool?.move(vp, p, d?.kind === "tool");
    }
    c.style.cursor =
      d?.kind === "pan" ? "grabbing" : d?.kind === "wl" ? "crosshair" : (vp.tool?.cursor(vp, p) ?? "default");
  });
  const end = (e: PointerEvent) => {
    const d = drag;
    drag = null;
    if (c.hasPointerCapture(e.pointerId)) c.releasePointerCapture(e.pointerId);
    if (d?.kind === "tool") vp.tool?.up(vp, vp.pointerAt(e));
  };
  c.addEventListener("pointerup", end);
  c.addEventListener("pointercancel", end);
  c.addEventListener("dblclick", (e) => vp.tool?.dblclick?.(vp, vp.pointerAt(e)));
  c.addEventListener("pointerleave", () => {
    vp.pointer = null;
    vp.invalidate(false);
  });
}
