// ComfyUI-DEIG box editor: replaces the raw "layout" textarea of DEIG_InstanceLayout nodes with a
// canvas editor (draw, select, move, resize, describe, reorder boxes; undo/redo; import/export).
//
// The widget keeps the name "layout" and the node's widget order, and its value stays the layout
// JSON string, so workflow widgets_values and API prompts are unchanged. Loading never throws: a
// malformed stored value is kept as is and reported inside the widget.
//
// Helper modules live in ./editor/. The server lists every .js file under web/js (subfolders too)
// and the frontend imports each; the helpers only export, and ES modules are evaluated once per
// URL, so that import is harmless.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { BoxEditor } from "./editor/editor.js";
import { replaceWidget, widgetOf } from "./editor/node_glue.js";

const NODE_CLASS = "DEIG_InstanceLayout";
const EXTENSION_NAME = "comfyui-deig.box-editor";
const DEFAULT_WIDTH = 400;

const editors = new Set();

/** Chain a callback on an object's method slot (keeps any existing one first). */
function chain(obj, key, fn) {
  const prev = obj[key];
  obj[key] = function (...args) {
    const r = prev?.apply(this, args);
    try { fn.apply(this, args); } catch (e) { console.warn("[DEIG box editor]", e); }
    return r;
  };
}

function refreshAll() {
  for (const ed of editors) {
    try { ed.refresh(); } catch { /* one editor's trouble stays its own */ }
  }
}

/** Swap the node's "layout" textarea widget for the box editor, in place. */
function attach(node) {
  const old = widgetOf(node, "layout");
  if (!old || old.type === "deig_box_editor") return;
  const editor = new BoxEditor(node, app, api);
  editor.setValue(old.value ?? "[]");
  const widget = replaceWidget(node, old, () => node.addDOMWidget("layout", "deig_box_editor", editor.root, {
    getValue: () => editor.state.value,
    setValue: (v) => editor.setValue(v),
    getMinHeight: () => editor.minHeight(),
    hideOnZoom: true,
  }));
  editor.widget = widget;
  widget.label = old.label;
  editors.add(editor);

  for (const name of ["width", "height"]) {
    const w = widgetOf(node, name);
    if (w) chain(w, "callback", () => editor.refresh());
  }
  chain(node, "onConnectionsChange", () => editor.refresh());
  chain(node, "onRemoved", () => { editors.delete(editor); editor.destroy(); });
  chain(node, "onAdded", () => { editors.add(editor); editor.refresh(); });
  chain(node, "onExecuted", () => editor.refresh());
  chain(node, "onConfigure", () => editor.loadPrefs());

  const [w, h] = node.computeSize();
  node.setSize([Math.max(node.size[0], w, DEFAULT_WIDTH), Math.max(node.size[1], h)]);
}

app.registerExtension({
  name: EXTENSION_NAME,
  setup() {
    try {
      // Size and background can come from other nodes (a latent size, a loaded or generated image).
      api.addEventListener("graphChanged", refreshAll);
      // After the app has stored the new outputs (its own listener runs first, but be sure).
      api.addEventListener("executed", () => setTimeout(refreshAll, 0));
    } catch (e) {
      console.warn("[DEIG box editor] live refresh unavailable:", e);
    }
  },
  nodeCreated(node) {
    if (node?.comfyClass !== NODE_CLASS) return;
    try {
      attach(node);
    } catch (e) {
      // The node keeps its plain textarea; the layout still works, only the editor is missing.
      console.warn("[DEIG box editor] could not build the editor; the raw JSON field stays:", e);
    }
  },
});
