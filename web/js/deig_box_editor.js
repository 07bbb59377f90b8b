// ComfyUI-DEIG box editor: replaces the raw "layout" textarea of DEIG_InstanceLayout nodes with a
// canvas editor (draw, select, move, resize, describe, reorder boxes; undo/redo; import/export).
//
// The widget keeps the name "layout" and the node's widget order, and its value stays the layout
// JSON string, so workflow widgets_values and API prompts are unchanged. Loading never throws: a
// malformed stored value is kept as is and reported inside the widget.
//
// Helper modules live in ./editor/. The server lists every .js file under web/js (subfolders too)
// and the frontend imports each; so every helper module only exports (no side effects), and ES modules
// are evaluated once per URL: that import is harmless.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { BoxEditor, MIN_NODE_WIDTH } from "./editor/editor.js";
import { loadMessages } from "./editor/i18n.js";
import { replaceWidget, widgetOf } from "./editor/node_glue.js";
import { drawOverview } from "./editor/overview.js";

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
    // The editor lives on the node; 1.58's side panel would list it as a bare "layout" with no value.
    hideInPanel: true,
  }));
  editor.widget = widget;
  widget.label = old.label;
  editors.add(editor);

  // Classic canvas, zoomed out: the frontend hides DOM widgets there; draw the boxes on the node.
  const draw = widget.draw;
  widget.draw = function (ctx, n, width, y, height, lowQuality) {
    if (!(lowQuality && this.options?.hideOnZoom)) return draw?.apply(this, arguments);
    const m = this.margin ?? 10;
    try {
      drawOverview(ctx, editor, { x: m, y: y + m, w: width - 2 * m, h: (this.computedHeight ?? height) - 2 * m,
        scale: app.canvas?.ds?.scale ?? 1 });
    } catch (e) { console.warn("[DEIG box editor]", e); }
  };
  // A minimum size at which everything fits (classic canvas): the user's resize and setSize() from
  // scripts both stop there; above it the editor reflows.
  const computeSize = node.computeSize;
  node.computeSize = function (...args) {
    const size = computeSize.apply(this, args);
    size[0] = Math.max(size[0], MIN_NODE_WIDTH);
    return size;
  };
  chain(node, "onResize", function (size) {
    const [mw, mh] = this.computeSize();
    if (size[0] < mw) size[0] = mw;
    if (size[1] < mh) size[1] = mh;
  });
  // The editor watches the widgets and links its size and background depend on (editor.refresh), and
  // lets go of them, its timers and its frames when the node leaves the graph; a node added back
  // (moved into a subgraph, a removal undone in place) gets them again.
  chain(node, "onRemoved", () => { editors.delete(editor); editor.destroy(); });
  chain(node, "onAdded", () => { editors.add(editor); editor.revive(); });
  chain(node, "onExecuted", () => editor.refreshSoon());
  chain(node, "onConfigure", () => editor.loadPrefs());

  const [w, h] = node.computeSize();
  node.setSize([Math.max(node.size[0], w, DEFAULT_WIDTH), Math.max(node.size[1], h)]);
}

app.registerExtension({
  name: EXTENSION_NAME,
  // The editor's words in the user's language are read before any node is made (the app awaits init).
  async init() {
    await loadMessages(api, app);
  },
  // After a workflow is loaded: every link and widget value is in place, so the size rule and the
  // background apply at once (not only when the pointer first enters the editor).
  afterConfigureGraph() {
    refreshAll();
  },
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
