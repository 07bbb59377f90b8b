// The box editor: toolbar, canvas, selected-box panel, instance list and raw JSON, wired to a
// DEIG_InstanceLayout node's "layout" widget.

import { CanvasView } from "./canvas_view.js";
import { DetailPanel } from "./detail_panel.js";
import { button, el } from "./dom.js";
import { t } from "./i18n.js";
import { openIoDialog } from "./io_dialog.js";
import { missingText } from "./layout_json.js";
import { ListView } from "./list_view.js";
import { isInputLinked, notifyGraphChanged, rootGraph, widgetOf } from "./node_glue.js";
import { encodePromptEffect, Lookups } from "./lookups.js";
import { findBackground, findEncodes, findSizeSource, linkWatchNodes } from "./sources.js";
import { LayoutState } from "./state.js";
import { StatusView } from "./status_view.js";
import { ensureStyles } from "./styles.js";
import { watchConnections, watchValue } from "./widget_watch.js";

const STAGE_MIN_PX = 180;
const NOTIFY_DELAY_MS = 250;
/** Narrowest node (graph units) at which toolbar, status, fields and list rows all fit, wrapped. */
export const MIN_NODE_WIDTH = 340;

// Images shared by every editor (background and image sizes), keyed by URL. Each editor listens for
// the load of an image it waits for once, through its own AbortSignal, so destroy() lets go of them.
const imageCache = new Map();

export class BoxEditor {
  constructor(node, app, api) {
    ensureStyles();
    this.node = node;
    this.app = app;
    this.api = api;
    this.widget = null;
    this.snap = false;
    this.showBackground = true;
    this.state = new LayoutState();
    this.size = { w: 512, h: 512, kind: "widgets", label: "this node's width/height", own: { w: 512, h: 512 }, watch: [] };
    this._notifyTimer = null;
    this._following = new Map();   // "values" | "links" -> {targets, stops}
    this._overridden = new Map();   // own width/height widget -> {label, disabled} before the override
    this._frames = new Map();       // job -> requestAnimationFrame id (one frame per job, however often asked)
    this._listening = new AbortController();   // listeners on shared objects (images)
    this._waitingFor = new Set();   // image URLs whose load this editor listens for
    this._refreshQueued = false;
    this.destroyed = false;
    this.lookups = new Lookups(this);
    this._build();
    this.state.addEventListener("change", (e) => {
      this._onStateChange(e.detail.layout && !e.detail.fromLoad);
      if (e.detail.layout) this.lookups.texts();
    });
    this.refresh();
  }

  // ---- DOM --------------------------------------------------------------------------------

  _build() {
    const root = el("div", "deig-be widget-expands");
    root.dataset.deigBoxEditor = "1";
    // Empty: the frontend gives the widget's container the layout input's tooltip (the raw JSON
    // format) as a title, which would pop up wherever the pointer rests on the editor.
    root.title = "";
    this.root = root;
    const host = {
      imageSize: () => this.size,
      snap: () => this.snap,
      readOnly: () => this.readOnly(),
      tokens: (i) => this.lookups.tokenOf(i),
      onUndo: () => this.state.undo(),
      onRedo: () => this.state.redo(),
      frame: (job, fn) => this._inFrame(job, fn),
      onEditText: () => { this._renderNow(); this.detail.focusText(); },
      // A box drawn with the mouse: type its description right away.
      onCreated: () => { this._renderNow(); this.detail.focusText(); },
      onDragEnd: () => {
        if (this._fitPending) this._fit();
        if (this._editedInDrag) { this._editedInDrag = false; this._announceEdit(); }
      },
    };
    this.view = new CanvasView(this.state, host);
    this.detail = new DetailPanel(this.state, host);
    this.list = new ListView(this.state, host);

    const tb = el("div", "deig-be-toolbar");
    this.btnAdd = button(t("editor.add"), t("editor.addTip"), () => { this.view.addDefaultBox(); });
    this.btnDelete = button(t("editor.delete"), t("editor.deleteTip"), () => this.state.remove());
    this.btnUndo = button(t("editor.undo"), t("editor.undoTip"), () => this.state.undo());
    this.btnRedo = button(t("editor.redo"), t("editor.redoTip"), () => this.state.redo());
    const snapLabel = el("label", "deig-be-toggle", { title: t("editor.snapTip") });
    this.snapBox = el("input", "", { type: "checkbox" });
    this.snapBox.addEventListener("change", () => { this.snap = this.snapBox.checked; this._savePrefs(); this._renderSoon(); });
    snapLabel.append(this.snapBox, t("editor.snap"));
    const bgLabel = el("label", "deig-be-toggle", { title: t("editor.imageTip") });
    this.bgBox = el("input", "", { type: "checkbox", checked: true });
    this.bgBox.addEventListener("change", () => { this.showBackground = this.bgBox.checked; this._savePrefs(); this.refresh(); });
    bgLabel.append(this.bgBox, t("editor.image"));
    this.bgLabel = bgLabel;
    this.btnIO = button(t("editor.io"), t("editor.ioTip"), () => this.openIO());
    this.btnRaw = button(t("editor.json"), t("editor.jsonTip"), () => this.toggleRaw());
    tb.append(this.btnAdd, this.btnDelete, this.btnUndo, this.btnRedo, snapLabel, bgLabel, this.btnIO, this.btnRaw);

    this.statusView = new StatusView();

    this.errorBox = el("div", "deig-be-error", { hidden: true });
    this.errorBox.setAttribute("role", "alert");
    this.errorText = el("div", "");
    this.errorBox.append(this.errorText,
      button(t("editor.reset"), t("editor.resetTip"), () => this.state.reset()),
      button(t("editor.editJson"), t("editor.editJsonTip"), () => this.toggleRaw(true)));

    this.stage = el("div", "deig-be-stage");
    this.stage.append(this.view.canvas);

    this.raw = el("div", "deig-be-raw", { hidden: true });
    this.rawText = el("textarea", "deig-be-raw-text", { rows: 4, spellcheck: false });
    this.rawText.setAttribute("aria-label", t("editor.rawLabel"));
    this.rawText.addEventListener("input", () => this.state.load(this.rawText.value, { keepHistory: true }));
    this.raw.append(this.rawText);

    this.detail.text.dataset.captureWheel = "true";
    this.rawText.dataset.captureWheel = "true";
    // Anything that appears or disappears while drawing sits below the canvas, which is top-aligned
    // in its stage, so the canvas never moves under the pointer.
    root.append(tb, this.statusView.status, this.errorBox, this.stage, this.statusView.notes, this.detail.root,
      this.list.root, this.raw);

    this._wireEvents();
    this._resizeObserver = new ResizeObserver(() => this._fit());
    this._resizeObserver.observe(this.stage);
  }

  _wireEvents() {
    const root = this.root;
    const legacy = () => !!root.closest(".dom-widget");   // classic litegraph overlay (not Vue nodes)
    const canvas = () => this.app?.canvas;
    // Left/right button: the editor's own; stop here so the Vue node renderer does not start a
    // node drag. Middle button: pan the graph (classic mode forwards it, Vue mode lets it bubble).
    for (const type of ["pointerdown", "pointermove", "pointerup"]) {
      root.addEventListener(type, (e) => {
        const middle = type === "pointermove" ? (e.buttons & 4) === 4 : e.button === 1;
        if (middle) {
          if (legacy()) {
            const fn = { pointerdown: "processMouseDown", pointermove: "processMouseMove", pointerup: "processMouseUp" }[type];
            try { canvas()?.[fn]?.(e); } catch { /* canvas busy */ }
          }
          return;
        }
        e.stopPropagation();
      });
    }
    // Wheel over the drawing area zooms the graph in classic mode (the overlay would eat it).
    this.stage.addEventListener("wheel", (e) => {
      if (!legacy()) return;
      e.preventDefault();
      try { canvas()?.processMouseWheel?.(e); } catch { /* canvas busy */ }
    }, { passive: false });
    // Keys typed in the editor's fields stay in the editor (no Delete-removes-node surprises).
    root.addEventListener("keydown", (e) => {
      const t = e.target;
      const field = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement;
      if (field && !(e.ctrlKey || e.metaKey || e.altKey)) e.stopPropagation();
      if (field && e.key === "Escape") t.blur();
    });
  }

  _fit() {
    // Never resize the canvas under a dragging pointer: the drag maps through the canvas rect.
    this._fitPending = this.view.dragging;
    if (this._fitPending) return;
    if (!this.stage.isConnected) return;
    // Classic renderer: the widget gets a fixed box and the canvas fills what is left of it.
    // Vue nodes: the node grows with its content, so the stage takes the image's aspect ratio.
    const auto = !this.root.closest(".dom-widget");
    this.root.classList.toggle("deig-be-auto", auto);
    const ar = `${this.size.w} / ${this.size.h}`;
    if (auto && this.stage.style.aspectRatio !== ar) this.stage.style.aspectRatio = ar;
    if (this.stage.clientWidth === 0) return;
    const cs = getComputedStyle(this.stage);
    const w = this.stage.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const h = this.stage.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    this.view.fit(w - 2, Math.max(h - 2, 40));   // 2 px for the canvas outline
    this._growSoon();   // a panel that appeared while the widget was hidden may need room
  }

  // ---- widget glue ------------------------------------------------------------------------

  /** Minimum widget height for the classic renderer's node layout. */
  minHeight() {
    let fixed = 0;
    for (const child of this.root.children) {
      if (child !== this.stage && !child.hidden) fixed += child.offsetHeight + 4;
    }
    // + the DOM widget's margin above and below, and the editor's own padding
    return Math.max(fixed, 60) + STAGE_MIN_PX + 2 * (this.widget?.margin ?? 10) + 4;
  }

  /** setValue from the frontend (workflow load, paste, Vue sync): load unless it is ours. */
  setValue(v) {
    try {
      this.state.load(typeof v === "string" ? v : v == null ? "" : JSON.stringify(v));
    } catch (e) {
      this.state.error = `could not read the stored layout: ${e?.message ?? e}`;
      this._onStateChange(false);
    }
  }

  // The snap and image toggles travel with the workflow, in the node's properties.
  _savePrefs() {
    try {
      this.node.properties ??= {};
      this.node.properties.deig_box_editor = { snap: this.snap, image: this.showBackground };
    } catch { /* a node without properties */ }
  }

  loadPrefs() {
    const p = this.node?.properties?.deig_box_editor;
    if (!p || typeof p !== "object") return;
    this.snap = this.snapBox.checked = p.snap === true;
    this.showBackground = this.bgBox.checked = p.image !== false;
    this.refresh();
  }

  readOnly() {
    return isInputLinked(this.node, "layout");
  }

  /** Redraw; after a user edit (not a load) also tell the frontend the value changed. */
  _onStateChange(edited) {
    this._renderSoon();
    if (!edited) return;
    // A drag changes the box on every pointer move; tell the frontend once, when it ends.
    if (this.view.dragging) this._editedInDrag = true;
    else this._announceEdit();
  }

  _announceEdit() {
    try { this.widget?.callback?.(this.widget.value); } catch { /* a foreign callback */ }
    clearTimeout(this._notifyTimer);
    this._notifyTimer = setTimeout(() => { this._notifyTimer = null; notifyGraphChanged(this.app); }, NOTIFY_DELAY_MS);
    this._growSoon();
  }

  /** Run `fn` in the next animation frame, once per `job` however often asked; destroy() cancels it. */
  _inFrame(job, fn) {
    if (this.destroyed || this._frames.has(job)) return;
    this._frames.set(job, requestAnimationFrame(() => { this._frames.delete(job); fn(); }));
  }

  _cancelFrame(job) {
    if (!this._frames.has(job)) return;
    cancelAnimationFrame(this._frames.get(job));
    this._frames.delete(job);
  }

  /** Classic renderer: grow the node when the list/panels need more room than it has (next frame). */
  _growSoon() {
    this._inFrame("grow", () => {
      const node = this.node;
      if (!this.root.closest(".dom-widget") || !node?.computeSize || !node.setSize) return;
      try {
        const need = node.computeSize();
        if (need[1] > node.size[1]) node.setSize([node.size[0], need[1]]);
      } catch { /* layout in flux */ }
    });
  }

  // ---- refresh ----------------------------------------------------------------------------

  _imageSize(url) {
    const img = this._image(url);
    return img && img.complete && img.naturalWidth ? { w: img.naturalWidth, h: img.naturalHeight } : null;
  }

  _image(url) {
    if (!url) return null;
    let img = imageCache.get(url);
    if (!img) {
      if (imageCache.size > 32) imageCache.clear();
      img = new Image();
      img.src = url;
      imageCache.set(url, img);
    }
    if (!img.complete && !this._waitingFor.has(url)) {
      this._waitingFor.add(url);
      const done = () => { this._waitingFor.delete(url); if (!this.destroyed) this.refreshSoon(); };
      const signal = this._listening.signal;
      img.addEventListener("load", done, { once: true, signal });
      img.addEventListener("error", () => this._waitingFor.delete(url), { once: true, signal });
    }
    return img;
  }

  /** Re-read size source and background from the graph, then redraw. */
  refresh() {
    this._refreshQueued = false;
    if (this.destroyed) return;
    try {
      const size = findSizeSource(this.node, this.app, this.api, (u) => this._imageSize(u));
      const changed = size.w !== this.size.w || size.h !== this.size.h;
      this.size = size;
      this._follow("values", size.watch, watchValue);
      this._follow("links", linkWatchNodes(this.node), watchConnections);
      this._showOverride(size);
      const bg = this.showBackground ? findBackground(this.node, this.app, this.api) : null;
      const img = bg ? this._image(bg.url) : null;
      this.view.background = img;
      this.bgInfo = bg;
      if (changed) { this._fit(); this._growSoon(); }
    } catch { /* keep the last known size */ }
    this.lookups.graph();
    this._renderSoon();
  }

  /** Refresh once, soon (many watched values change together when a workflow loads). */
  refreshSoon() {
    if (this._refreshQueued) return;
    this._refreshQueued = true;
    queueMicrotask(() => { if (this._refreshQueued) this.refresh(); });
  }

  /**
   * Re-read the graph when one of `targets` changes, through `watch` (watchValue: the widgets the size
   * depends on, this node's and its source's; watchConnections: the nodes whose links decide size and
   * background). Replaces what was followed before under the name `what`.
   */
  _follow(what, targets, watch) {
    const before = this._following.get(what);
    if (before && before.targets.length === targets.length && targets.every((t, i) => t === before.targets[i])) return;
    before?.stops.forEach((stop) => stop());
    this._following.set(what, { targets, stops: targets.map((t) => watch(t, () => this.refreshSoon())) });
  }

  /**
   * The node's own width/height while a connected latent or image decides the size: disabled and
   * labelled as overridden (typing there would change nothing); as they were once it no longer does.
   */
  _showOverride(size) {
    const over = size.kind === "latent" || size.kind === "image";
    for (const w of [widgetOf(this.node, "width"), widgetOf(this.node, "height")]) {
      if (!w) continue;
      const before = this._overridden.get(w);
      if (over && !before) {
        this._overridden.set(w, { label: w.label, disabled: w.disabled });
        w.label = `${w.label || w.name} (overridden)`;
        w.disabled = true;
      } else if (!over && before) {
        this._restoreWidget(w, before);
      }
    }
  }

  _restoreWidget(w, { label, disabled }) {
    this._overridden.delete(w);
    w.label = label;
    w.disabled = disabled;
    rootGraph(this.app)?.setDirtyCanvas?.(true, false);
  }

  /** Redraw everything in the next animation frame (however many changes come before it). */
  _renderSoon() {
    this._inFrame("render", () => this._renderNow());
  }

  _renderNow() {
    this._cancelFrame("render");
    this._cancelFrame("canvas");   // drawn below
    const st = this.state;
    const ro = this.readOnly();
    this.errorBox.hidden = !st.error;
    this.errorText.textContent = st.error ? t("editor.storedUnusable", { error: st.error }) : "";
    this.statusView.update({
      size: this.size, count: st.items.length, readOnly: ro, missingText: missingText(st.items),
      bgLabel: this.bgInfo && this.showBackground ? this.bgInfo.label : null,
      tokens: st.items.map((_, i) => this.lookups.tokenOf(i)), missingModels: this.lookups.missingModels,
    });
    this._growSoon();   // notes or list rows may need more room than the node has (classic canvas)
    this.bgLabel.classList.toggle("deig-be-dim", !this.bgInfo && this.showBackground);
    this.bgLabel.title = this.bgInfo || !this.showBackground ? t("editor.imageTip") : t("editor.noImageTip");
    this.btnUndo.disabled = !st.canUndo;
    this.btnRedo.disabled = !st.canRedo;
    this.btnDelete.disabled = ro || st.selected < 0;
    this.btnAdd.disabled = ro || !!st.error;
    this.view.canvas.setAttribute("aria-disabled", String(ro || !!st.error));
    if (!this.raw.hidden && document.activeElement !== this.rawText) this.rawText.value = st.value;
    this.detail.update();
    this.list.update();
    this.view.render();
    rootGraph(this.app)?.setDirtyCanvas?.(true, false);   // the zoomed-out overview draws the boxes too
  }

  // ---- actions ----------------------------------------------------------------------------

  toggleRaw(show = this.raw.hidden) {
    this.raw.hidden = !show;
    this.btnRaw.setAttribute("aria-pressed", String(show));
    if (show) {
      this.rawText.value = this.state.value;
      this.rawText.focus();
    }
    this._fit();
    this._growSoon();
  }

  openIO() {
    const encode = findEncodes(this.node)[0] ?? null;
    return openIoDialog({
      title: this.node.title || "DEIG Instance Layout",
      getItems: () => this.state.items,
      promptTarget: encode ? `${encode.title || "DEIG Encode"} #${encode.id}` : null,
      onImport: (items, { append, caption, setPrompt }) => {
        if (this.state.error) this.state.reset();
        // The caption goes into the DEIG Encode's prompt in the same undo step as the boxes.
        const effect = setPrompt && encode && caption ? encodePromptEffect(encode, caption, this.app) : null;
        this.state.replaceAll(items, { append, effect });
      },
    });
  }

  /**
   * The node left the graph: stop every timer, frame, observer, listener and watch, and give the
   * widgets of other nodes back as they were. revive() undoes it when the node comes back.
   */
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    clearTimeout(this._notifyTimer);   // the removal itself is the graph change the frontend records
    this._notifyTimer = null;
    for (const id of this._frames.values()) cancelAnimationFrame(id);
    this._frames.clear();
    this._refreshQueued = false;
    this.lookups.stop();
    this._listening.abort();
    this._waitingFor.clear();
    this._resizeObserver.disconnect();
    for (const { stops } of this._following.values()) stops.forEach((stop) => stop());
    this._following.clear();
    for (const [w, before] of [...this._overridden]) this._restoreWidget(w, before);
  }

  /** The node is in a graph (again, after a removal): observe, watch and listen again; re-read the graph. */
  revive() {
    if (this.destroyed) {
      this.destroyed = false;
      this._listening = new AbortController();
      this._resizeObserver.observe(this.stage);
      this.lookups.start();
    }
    this.refresh();
  }
}
