// The editor's model: the instance list, the selection, undo/redo and the widget value.

import { LayoutParseError, parseLayoutValue, serializeLayout } from "./layout_json.js";

const UNDO_LIMIT = 200;
const COALESCE_MS = 1200;

function cloneItems(items) {
  return items.map((it) => ({ box: it.box.slice(), text: it.text }));
}

/**
 * Layout state. Emits "change" when the layout or selection changed: detail.layout is true when
 * the value changed, detail.fromLoad when that came from load() (not a user edit).
 *
 * Value policy: a value loaded from a workflow is kept byte for byte as long as the boxes are
 * unchanged (so sharing a workflow never rewrites it); any edit writes the canonical JSON.
 * A malformed stored value is kept as is too, with `error` set, until the user fixes or resets it.
 */
export class LayoutState extends EventTarget {
  constructor() {
    super();
    this.items = [];
    this.selected = -1;
    this.error = null;          // message when the stored value could not be parsed
    this._raw = "[]";           // the value as loaded
    this._rawCanonical = "[]";  // canonical text of the loaded items (to know when we are back to it)
    this._undo = [];
    this._redo = [];
    this._coalesceKey = null;
    this._coalesceAt = 0;
    this._gesture = null;
  }

  // ---- value ------------------------------------------------------------------------------

  /** The widget value: the stored text while unchanged (or malformed), else canonical JSON. */
  get value() {
    if (this.error) return this._raw;
    const canonical = serializeLayout(this.items);
    return canonical === this._rawCanonical ? this._raw : canonical;
  }

  /** Load a stored value (workflow load, paste into the raw editor). Clears history if asked. */
  load(value, { keepHistory = false } = {}) {
    const text = typeof value === "string" ? value : value == null ? "" : JSON.stringify(value);
    // The value we already hold (e.g. the Vue renderer echoing our own change back): no-op, so
    // the history survives.
    if (text === this.value) return false;
    if (keepHistory) this._pushUndo();
    else this._clearHistory();
    try {
      const items = parseLayoutValue(text);
      this.items = items;
      this.error = null;
      this._raw = text;
      this._rawCanonical = serializeLayout(items);
    } catch (e) {
      if (!(e instanceof LayoutParseError)) throw e;
      this.items = [];
      this.error = e.message;
      this._raw = text;
      this._rawCanonical = null;
    }
    if (this.selected >= this.items.length) this.selected = this.items.length ? 0 : -1;
    if (!keepHistory) this.selected = -1;
    this._emit(true, !keepHistory);
    return true;
  }

  /** Drop a malformed value and start from an empty layout (undoable). */
  reset() {
    this._pushUndo();
    this.items = [];
    this.error = null;
    this.selected = -1;
    this._emit(true);
  }

  // ---- history ----------------------------------------------------------------------------

  _snapshot() {
    return JSON.stringify({ items: this.items, selected: this.selected, error: this.error, raw: this._raw,
      rawCanonical: this._rawCanonical });
  }

  _restore(snap) {
    const s = JSON.parse(snap);
    this.items = s.items;
    this.selected = s.selected;
    this.error = s.error;
    this._raw = s.raw;
    this._rawCanonical = s.rawCanonical;
  }

  /** Push an undo entry: the state to go back to and an optional effect outside the layout
   * ({apply(), revert()}: e.g. the prompt of the DEIG Encode an import also set). */
  _pushUndo(snap = this._snapshot(), effect = null) {
    this._undo.push({ snap, effect });
    if (this._undo.length > UNDO_LIMIT) this._undo.shift();
    this._redo = [];
    this._coalesceKey = null;
  }

  _clearHistory() {
    this._undo = [];
    this._redo = [];
    this._coalesceKey = null;
    this._gesture = null;
  }

  get canUndo() { return this._undo.length > 0; }
  get canRedo() { return this._redo.length > 0; }

  undo() {
    if (!this._undo.length) return false;
    this._gesture = null;
    const entry = this._undo.pop();
    this._redo.push({ snap: this._snapshot(), effect: entry.effect });
    this._restore(entry.snap);
    entry.effect?.revert();
    this._coalesceKey = null;
    this._emit(true);
    return true;
  }

  redo() {
    if (!this._redo.length) return false;
    this._gesture = null;
    const entry = this._redo.pop();
    this._undo.push({ snap: this._snapshot(), effect: entry.effect });
    this._restore(entry.snap);
    entry.effect?.apply();
    this._coalesceKey = null;
    this._emit(true);
    return true;
  }

  /**
   * Run `fn` as one undoable edit. Edits with the same `coalesce` key in quick succession
   * (typing, arrow-key nudges) share one undo step. An `effect` ({apply(), revert()}) outside the
   * layout is applied now and undone/redone with this step.
   */
  edit(fn, { coalesce = null, effect = null } = {}) {
    if (this.error) return false;
    const before = this._snapshot();
    const layoutBefore = serializeLayout(this.items);
    fn(this.items);
    const layoutChanged = serializeLayout(this.items) !== layoutBefore;
    if (!layoutChanged && before === this._snapshot() && !effect) return false;
    effect?.apply();
    if (effect) coalesce = null;
    if (!this._gesture) {
      const now = Date.now();
      const joined = coalesce && coalesce === this._coalesceKey && now - this._coalesceAt < COALESCE_MS;
      if (!joined) this._pushUndo(before, effect);
      this._coalesceKey = coalesce;
      this._coalesceAt = now;
    }
    this._emit(layoutChanged);
    return true;
  }

  /** A pointer drag: many edits, one undo step (pushed at the end, only if something changed). */
  beginGesture() {
    if (this.error) return;
    this._gesture = { snap: this._snapshot(), layout: serializeLayout(this.items) };
  }

  endGesture() {
    const g = this._gesture;
    this._gesture = null;
    if (g && serializeLayout(this.items) !== g.layout) this._pushUndo(g.snap);
  }

  /** Abandon a drag, restoring the state it started from. */
  cancelGesture() {
    const g = this._gesture;
    this._gesture = null;
    if (!g) return;
    this._restore(g.snap);
    this._emit(true);
  }

  get inGesture() { return this._gesture !== null; }

  // ---- operations -------------------------------------------------------------------------

  select(index) {
    const i = index >= 0 && index < this.items.length ? index : -1;
    if (i === this.selected) return;
    this.selected = i;
    this._coalesceKey = null;
    this._emit(false);
  }

  add(box, text = "") {
    this.edit((items) => {
      items.push({ box: box.slice(), text });
      this.selected = items.length - 1;
    });
    return this.selected;
  }

  remove(index = this.selected) {
    if (index < 0 || index >= this.items.length) return false;
    return this.edit((items) => {
      items.splice(index, 1);
      if (this.selected >= items.length) this.selected = items.length - 1;
      else if (this.selected > index) this.selected -= 1;
    });
  }

  /** Move instance `index` by `delta` places in the order (the order is the instance number). */
  reorder(index, delta) {
    const j = index + delta;
    if (index < 0 || index >= this.items.length || j < 0 || j >= this.items.length) return false;
    return this.edit((items) => {
      const [it] = items.splice(index, 1);
      items.splice(j, 0, it);
      if (this.selected === index) this.selected = j;
      else if (this.selected === j) this.selected = index;
    });
  }

  setText(index, text) {
    if (!this.items[index] || this.items[index].text === text) return false;
    return this.edit((items) => { items[index].text = text; }, { coalesce: `text:${index}` });
  }

  setBox(index, box, { coalesce = null } = {}) {
    if (!this.items[index]) return false;
    return this.edit((items) => { items[index].box = box.slice(); }, { coalesce });
  }

  /** Replace everything (import); undoable, together with `effect` when given. */
  replaceAll(items, { append = false, effect = null } = {}) {
    const incoming = cloneItems(items);
    return this.edit((cur) => {
      if (!append) cur.splice(0, cur.length);
      cur.push(...incoming);
      this.selected = cur.length ? cur.length - incoming.length : -1;
    }, { effect });
  }

  _emit(layoutChanged, fromLoad = false) {
    this.dispatchEvent(new CustomEvent("change", { detail: { layout: layoutChanged, fromLoad } }));
  }
}
