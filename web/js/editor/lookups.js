// What the editor learns from the server for its node: T5 token counts of the descriptions (with
// the tokenizer of the T5 loader the layout's DEIG Encode uses) and the model files the graph's
// loaders name that are missing; and the undoable change of a DEIG Encode's prompt (an import's
// caption).

import { pyStrip } from "./layout_json.js";
import { rootGraph, widgetOf } from "./node_glue.js";
import { missingModels, tokenCounts } from "./server_checks.js";
import { findT5Name, modelChoices } from "./sources.js";

const TOKEN_DELAY_MS = 300;

export class Lookups {
  constructor(editor) {
    this.editor = editor;
    this.t5Name = undefined;
    this.counts = new Map();   // stripped description -> T5 tokens (for this.t5Name)
    this.max = 128;
    this.missingModels = null;
    this._modelsKey = null;
    this._timer = null;
    this._requests = new AbortController();   // this editor's token-count requests
  }

  /** The editor is going: no more timers, requests or redraws from here. */
  stop() {
    clearTimeout(this._timer);
    this._timer = null;
    this._requests.abort();
  }

  start() {
    if (this._requests.signal.aborted) this._requests = new AbortController();
    this._modelsKey = null;   // ask again: the graph may have changed meanwhile
  }

  /** {count, max} of instance i's description, or null while unknown. */
  tokenOf(i) {
    const it = this.editor.state.items[i];
    const n = it ? this.counts.get(pyStrip(it.text)) : undefined;
    return n === undefined ? null : { count: n, max: this.max };
  }

  /** The descriptions changed: count the new ones soon (one request per pause in typing). */
  texts() {
    clearTimeout(this._timer);
    if (this._requests.signal.aborted) return;
    this._timer = setTimeout(() => { this._timer = null; this._countTokens(); }, TOKEN_DELAY_MS);
  }

  async _countTokens() {
    const ed = this.editor;
    const texts = [...new Set(ed.state.items.map((it) => pyStrip(it.text)).filter(Boolean))];
    const todo = texts.filter((t) => !this.counts.has(t));
    if (!todo.length) return;
    const t5 = this.t5Name;
    const { signal } = this._requests;
    try {
      const { counts, maxLength } = await tokenCounts(ed.api, todo, t5, signal);
      if (signal.aborted || t5 !== this.t5Name) return;   // gone, or the loader changed: a new count is on its way
      todo.forEach((t, k) => this.counts.set(t, counts[k]));
      this.max = maxLength;
      ed._renderSoon();
    } catch (e) {
      if (!signal.aborted) console.warn("[DEIG box editor] token counts unavailable:", e?.message ?? e);
    }
  }

  /** The graph changed: the T5 loader in use and the model files the loaders name. */
  graph() {
    const ed = this.editor;
    const t5 = findT5Name(ed.node);
    if (t5 !== this.t5Name) {
      this.t5Name = t5;
      this.counts.clear();
      this.texts();
    }
    const choices = modelChoices(rootGraph(ed.app));
    const key = JSON.stringify(choices);
    if (key === this._modelsKey) return;
    this._modelsKey = key;
    const { signal } = this._requests;
    missingModels(ed.api, choices).then((list) => {
      if (signal.aborted || this._modelsKey !== key) return;
      this.missingModels = list;
      ed._renderSoon();
    }).catch((e) => console.warn("[DEIG box editor] model check unavailable:", e?.message ?? e));
  }
}

/** An undoable change of `encode`'s prompt to `text` ({apply(), revert()} for LayoutState.edit). */
export function encodePromptEffect(encode, text, app) {
  const w = widgetOf(encode, "prompt");
  const before = w?.value;
  const put = (v) => {
    if (!w) return;
    w.value = v;
    rootGraph(app)?.setDirtyCanvas?.(true, true);
  };
  return { apply: () => put(text), revert: () => put(before) };
}
