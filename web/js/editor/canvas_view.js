// The drawing surface: renders the boxes and turns pointer and keyboard input into edits.
//
// Coordinates: the model is normalised (0..1); pointer positions are mapped through the canvas's
// getBoundingClientRect(), which already includes the graph zoom (a CSS transform in both the
// classic and the Vue node renderer), so hit tests and handles stay right at any zoom level. Boxes
// drawn, moved or resized with the pointer land on whole image pixels (8-pixel steps when snapping).
// Pointer events change the model at once and ask for a redraw; drawing happens at most once per
// animation frame (requestRender), never inside the event.

import { drawScene } from "./canvas_draw.js";
import { t } from "./i18n.js";
import { clamp01, MIN_BOX_SIDE } from "./layout_json.js";

const HANDLE_PX = 7;          // handle size on screen (hit area: 2 px more on each side)
const DRAG_START_PX = 3;      // movement before a press on empty space becomes a new box
const MIN_BOX_IMG_PX = 2;     // smallest box, in image pixels
const GRID_PX = 8;            // latent grid (one latent pixel = 8 image pixels)

const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
const CURSORS = { nw: "nwse-resize", se: "nwse-resize", ne: "nesw-resize", sw: "nesw-resize",
  n: "ns-resize", s: "ns-resize", e: "ew-resize", w: "ew-resize" };


export class CanvasView {
  /**
   * @param {import("./state.js").LayoutState} state
   * @param {{imageSize: () => {w: number, h: number}, snap: () => boolean, readOnly: () => boolean,
   *          frame: (job: string, fn: () => void) => void,
   *          onUndo: () => void, onRedo: () => void, onEditText: (i: number) => void,
   *          onCreated?: (i: number) => void, onDragEnd?: () => void}} host
   */
  constructor(state, host) {
    this.state = state;
    this.host = host;
    this.background = null;   // HTMLImageElement drawn under the boxes, or null
    this.drag = null;
    this.hover = null;
    const c = document.createElement("canvas");
    c.className = "deig-be-canvas";
    c.tabIndex = 0;
    c.setAttribute("role", "application");
    c.setAttribute("aria-label", t("editor.canvasLabel"));
    // The frontend's graph-level undo and change tracking ignore key presses whose focused element
    // reports type "textarea" (its rule for text fields with their own history). This element has
    // its own undo, so it reports that type; without it Ctrl+Z here would also undo the graph.
    Object.defineProperty(c, "type", { value: "textarea", enumerable: false });
    // Frontend 1.58 asks instead whether the focused element is an INPUT/TEXTAREA or contentEditable,
    // in a window listener that runs before this element's own: editable, but nothing is ever typed in.
    c.contentEditable = "true";
    for (const type of ["beforeinput", "paste", "drop"]) c.addEventListener(type, (e) => e.preventDefault());
    this.canvas = c;
    this.ctx = c.getContext("2d");
    c.addEventListener("pointerdown", (e) => this._onDown(e));
    c.addEventListener("pointermove", (e) => this._onMove(e));
    c.addEventListener("pointerup", (e) => this._onUp(e));
    c.addEventListener("pointercancel", () => this._cancelDrag());
    c.addEventListener("lostpointercapture", () => { if (this.drag) this._finishDrag(); });
    c.addEventListener("pointerleave", () => { this.hover = null; this.requestRender(); });
    c.addEventListener("keydown", (e) => this._onKey(e));
    c.addEventListener("focus", () => this.requestRender());
    c.addEventListener("blur", () => this.requestRender());
  }

  // ---- geometry ---------------------------------------------------------------------------

  /** Size the canvas to the largest rectangle of the image's aspect inside (w, h) CSS pixels. */
  fit(availW, availH) {
    const { w, h } = this.host.imageSize();
    const ar = w / h;
    let cw = Math.max(1, Math.floor(availW));
    let ch = Math.round(cw / ar);
    if (availH > 0 && ch > availH) {
      ch = Math.max(1, Math.floor(availH));
      cw = Math.max(1, Math.round(ch * ar));
    }
    const style = this.canvas.style;
    if (style.width !== `${cw}px` || style.height !== `${ch}px`) {
      style.width = `${cw}px`;
      style.height = `${ch}px`;
    }
    this._cssW = cw;
    this._cssH = ch;
    this.requestRender();
  }

  _rect() {
    return this.canvas.getBoundingClientRect();
  }

  /** Pointer event -> normalised point (may fall outside 0..1 while dragging). */
  _point(e) {
    const r = this._rect();
    return { x: (e.clientX - r.left) / (r.width || 1), y: (e.clientY - r.top) / (r.height || 1),
      sx: r.width, sy: r.height };
  }

  /** v (normalised) on the image's grid: whole pixels, or the 8-pixel latent grid when snapping. */
  _snapV(v, size) {
    const step = this.host.snap() ? GRID_PX : 1;
    if (Math.abs(1 - v) * size < step / 2) return 1;
    return clamp01((Math.round((v * size) / step) * step) / size);
  }

  _minSize() {
    const { w, h } = this.host.imageSize();
    const px = this.host.snap() ? GRID_PX : MIN_BOX_IMG_PX;
    const side = 2 * MIN_BOX_SIDE;   // stays above the backend's minimum after 6-decimal rounding
    return { mx: Math.min(Math.max(px / w, side), 1), my: Math.min(Math.max(px / h, side), 1) };
  }

  // ---- hit testing ------------------------------------------------------------------------

  _handleAt(p) {
    const i = this.state.selected;
    const it = this.state.items[i];
    if (!it) return null;
    const [x1, y1, x2, y2] = it.box;
    const xm = (x1 + x2) / 2, ym = (y1 + y2) / 2;
    const pts = { nw: [x1, y1], n: [xm, y1], ne: [x2, y1], e: [x2, ym], se: [x2, y2], s: [xm, y2],
      sw: [x1, y2], w: [x1, ym] };
    const tol = HANDLE_PX + 2;
    for (const hnd of HANDLES) {
      const [hx, hy] = pts[hnd];
      if (Math.abs((p.x - hx) * p.sx) <= tol && Math.abs((p.y - hy) * p.sy) <= tol) return hnd;
    }
    return null;
  }

  /** Index of the box under p: the smallest one containing it, so nested boxes stay reachable. */
  boxAt(p) {
    let best = -1, bestArea = Infinity;
    this.state.items.forEach((it, i) => {
      const [x1, y1, x2, y2] = it.box;
      if (p.x >= x1 && p.x <= x2 && p.y >= y1 && p.y <= y2) {
        const area = (x2 - x1) * (y2 - y1);
        if (area <= bestArea) { best = i; bestArea = area; }
      }
    });
    return best;
  }

  // ---- pointer ----------------------------------------------------------------------------

  _onDown(e) {
    if (e.button !== 0) return;
    this.canvas.focus({ preventScroll: true });
    if (this.host.readOnly() || this.state.error) return;
    e.preventDefault();
    const p = this._point(e);
    const hnd = this._handleAt(p);
    let mode, index = this.state.selected;
    if (hnd) {
      mode = "resize";
    } else {
      index = this.boxAt(p);
      mode = index >= 0 ? "move" : "create";
      this.state.select(index);
    }
    const box = index >= 0 ? this.state.items[index].box.slice() : null;
    this.drag = { mode, hnd, index, start: p, box, moved: false, pointerId: e.pointerId };
    this.state.beginGesture();
    try { this.canvas.setPointerCapture(e.pointerId); } catch { /* pointer already gone */ }
  }

  _onMove(e) {
    const p = this._point(e);
    const d = this.drag;
    if (!d) {
      this._updateHover(p);
      return;
    }
    if (!d.moved) {
      const dist = Math.hypot((p.x - d.start.x) * p.sx, (p.y - d.start.y) * p.sy);
      if (dist < DRAG_START_PX) return;
      d.moved = true;
    }
    const { w, h } = this.host.imageSize();
    const { mx, my } = this._minSize();
    if (d.mode === "create") {
      const x1 = this._snapV(clamp01(Math.min(d.start.x, p.x)), w), x2 = this._snapV(clamp01(Math.max(d.start.x, p.x)), w);
      const y1 = this._snapV(clamp01(Math.min(d.start.y, p.y)), h), y2 = this._snapV(clamp01(Math.max(d.start.y, p.y)), h);
      const box = [x1, y1, Math.max(x2, Math.min(1, x1 + mx)), Math.max(y2, Math.min(1, y1 + my))];
      if (d.index < 0) {
        d.index = this.state.add(box);
      } else {
        this.state.setBox(d.index, box);
      }
    } else if (d.mode === "move") {
      const [x1, y1, x2, y2] = d.box;
      const bw = x2 - x1, bh = y2 - y1;
      let nx = Math.min(Math.max(x1 + (p.x - d.start.x), 0), Math.max(0, 1 - bw));
      let ny = Math.min(Math.max(y1 + (p.y - d.start.y), 0), Math.max(0, 1 - bh));
      nx = Math.min(this._snapV(nx, w), Math.max(0, 1 - bw));
      ny = Math.min(this._snapV(ny, h), Math.max(0, 1 - bh));
      this.state.setBox(d.index, [nx, ny, nx + bw, ny + bh]);
    } else if (d.mode === "resize") {
      this.state.setBox(d.index, this._resized(d.box, d.hnd, p, w, h, mx, my));
    }
    this.requestRender();
  }

  _resized(box, hnd, p, w, h, mx, my) {
    let [x1, y1, x2, y2] = box;
    const px = this._snapV(clamp01(p.x), w), py = this._snapV(clamp01(p.y), h);
    if (hnd.includes("w")) x1 = px;
    if (hnd.includes("e")) x2 = px;
    if (hnd.includes("n")) y1 = py;
    if (hnd.includes("s")) y2 = py;
    // Dragging an edge past the opposite one flips the box instead of collapsing it.
    if (x2 < x1) [x1, x2] = [x2, x1];
    if (y2 < y1) [y1, y2] = [y2, y1];
    if (x2 - x1 < mx) { if (hnd.includes("w")) x1 = Math.max(0, x2 - mx); else x2 = Math.min(1, x1 + mx); }
    if (y2 - y1 < my) { if (hnd.includes("n")) y1 = Math.max(0, y2 - my); else y2 = Math.min(1, y1 + my); }
    return [x1, y1, x2, y2];
  }

  _onUp(e) {
    if (!this.drag || e.pointerId !== this.drag.pointerId) return;
    try { this.canvas.releasePointerCapture(e.pointerId); } catch { /* already released */ }
    this._finishDrag();
  }

  _finishDrag() {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.mode === "create" && !d.moved) this.state.select(-1);
    this.state.endGesture();
    this.requestRender();
    this.host.onDragEnd?.();
    if (d.mode === "create" && d.moved && d.index >= 0) this.host.onCreated?.(d.index);
  }

  _cancelDrag() {
    if (!this.drag) return;
    this.drag = null;
    this.state.cancelGesture();
    this.requestRender();
    this.host.onDragEnd?.();
  }

  /** True while a pointer drag is in progress (the editor holds layout changes until it ends). */
  get dragging() { return this.drag !== null; }

  _updateHover(p) {
    let cursor = "crosshair";
    if (!this.host.readOnly() && !this.state.error) {
      const hnd = this._handleAt(p);
      if (hnd) cursor = CURSORS[hnd];
      else if (this.boxAt(p) >= 0) cursor = "move";
    } else {
      cursor = "default";
    }
    if (this.canvas.style.cursor !== cursor) this.canvas.style.cursor = cursor;
    const hover = this.boxAt(p);
    if (hover !== this.hover) {
      this.hover = hover;
      // The full description of the box under the pointer, as a tooltip.
      const it = this.state.items[hover];
      this.canvas.title = it ? `${hover + 1}: ${it.text || t("editor.noDescription")}` : "";
      this.requestRender();
    }
  }

  // ---- keyboard ---------------------------------------------------------------------------

  _onKey(e) {
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key;
    const handled = () => { e.preventDefault(); e.stopPropagation(); };
    if (mod && !e.altKey && (key === "z" || key === "Z")) { handled(); e.shiftKey ? this.host.onRedo() : this.host.onUndo(); return; }
    if (mod && !e.altKey && (key === "y" || key === "Y")) { handled(); this.host.onRedo(); return; }
    if (mod || e.altKey) return;            // let Ctrl+S, Ctrl+Enter etc. reach the app
    if (key === "Tab") return;              // focus moves on
    // Every other plain key stays here, so single-key app shortcuts do not fire while drawing.
    e.stopPropagation();
    if (key === "Escape") {
      e.preventDefault();
      if (this.drag) this._cancelDrag(); else this.state.select(-1);
      return;
    }
    const st = this.state;
    if (key === "[" || key === "]") {
      e.preventDefault();
      const n = st.items.length;
      if (!n) return;
      const cur = st.selected < 0 ? (key === "]" ? -1 : 0) : st.selected;
      st.select((cur + (key === "]" ? 1 : -1) + n) % n);
      return;
    }
    if (this.host.readOnly() || st.error) return;
    if (key === "n" || key === "N" || key === "Insert") {
      e.preventDefault();
      this.addDefaultBox();
      return;
    }
    const i = st.selected;
    if (i < 0) return;
    if (key === "Delete" || key === "Backspace") { e.preventDefault(); st.remove(i); return; }
    if (key === "Enter") { e.preventDefault(); this.host.onEditText(i); return; }
    const dirs = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (!(key in dirs)) return;
    e.preventDefault();
    const { w, h } = this.host.imageSize();
    const step = this.host.snap() ? GRID_PX : 1;
    const [dx, dy] = dirs[key];
    const sx = (dx * step) / w, sy = (dy * step) / h;
    let [x1, y1, x2, y2] = st.items[i].box;
    if (e.shiftKey) {
      const { mx, my } = this._minSize();
      x2 = Math.min(1, Math.max(x1 + mx, x2 + sx));
      y2 = Math.min(1, Math.max(y1 + my, y2 + sy));
    } else {
      const bw = x2 - x1, bh = y2 - y1;
      x1 = Math.min(Math.max(x1 + sx, 0), Math.max(0, 1 - bw));
      y1 = Math.min(Math.max(y1 + sy, 0), Math.max(0, 1 - bh));
      x2 = x1 + bw;
      y2 = y1 + bh;
    }
    st.setBox(i, [x1, y1, x2, y2], { coalesce: e.shiftKey ? `resize:${i}` : `move:${i}` });
  }

  /** Add a box in the middle (toolbar button and the N key), selected. */
  addDefaultBox() {
    const { w, h } = this.host.imageSize();
    const k = this.state.items.length % 5;
    const box = [0.3 + 0.04 * k, 0.3 + 0.04 * k, 0.7 + 0.04 * k, 0.7 + 0.04 * k]
      .map((v, j) => this._snapV(Math.min(v, 1), j % 2 ? h : w));
    return this.state.add(box);
  }

  // ---- drawing ----------------------------------------------------------------------------

  /** Draw in the next animation frame (once, however many events ask before it). */
  requestRender() {
    this.host.frame("canvas", () => this.render());
  }

  render() {
    const c = this.canvas;
    const cw = this._cssW || c.clientWidth || 1, ch = this._cssH || c.clientHeight || 1;
    const rect = c.isConnected ? c.getBoundingClientRect() : null;
    const zoom = rect && c.offsetWidth ? rect.width / c.offsetWidth : 1;
    // Backing store follows device pixels and the graph zoom, so boxes stay sharp when zoomed in.
    const scale = Math.min(4, Math.max(1, (window.devicePixelRatio || 1) * Math.max(zoom, 1)));
    const bw = Math.round(cw * scale), bh = Math.round(ch * scale);
    if (c.width !== bw || c.height !== bh) { c.width = bw; c.height = bh; }
    this.ctx.setTransform(bw / cw, 0, 0, bh / ch, 0, 0);
    const st = this.state;
    drawScene(this.ctx, {
      cw, ch, items: st.items, selected: st.selected, hover: this.hover,
      background: this.background, grid: this.host.snap() ? { ...this.host.imageSize(), step: GRID_PX } : null,
      handle: HANDLE_PX / (zoom || 1), focused: document.activeElement === c,
      hint: st.items.length || st.error ? "" : this.host.readOnly() ? "layout comes from a link" : "drag to draw a box",
    });
  }
}
