// Graph helpers for the box editor: links, neighbours, a node's image, whether the layout input is
// driven by a link, and telling the frontend that the graph changed. (What the editor takes its size
// and background from is decided in sources.js.)
// Everything here is defensive: a graph shape it does not understand gives "no answer", never
// an exception.

const SEARCH_DEPTH = 6;
const SEARCH_NODES = 60;

export function widgetOf(node, name) {
  return node?.widgets?.find((w) => w.name === name);
}

export function intValue(v) {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? Math.round(n) : null;
}

/** The node feeding input `name` of `node`, with the output slot name, or null. */
export function originOf(node, name) {
  try {
    const slot = node.inputs?.findIndex((i) => i.name === name) ?? -1;
    if (slot < 0 || !slotLinked(node, slot)) return null;
    const link = node.getInputLink?.(slot);
    const origin = link ? node.graph?.getNodeById?.(link.origin_id) : null;
    if (!origin) return null;
    return { node: origin, output: origin.outputs?.[link.origin_slot]?.name };
  } catch {
    return null;
  }
}

/**
 * Whether input slot `slot` has a link. Through the node's API (1.58 deprecates reading
 * `input.link`; every frontend since 1.2x has isInputConnected), the field only as a fallback.
 */
function slotLinked(node, slot) {
  if (typeof node.isInputConnected === "function") return node.isInputConnected(slot);
  return node.inputs?.[slot]?.link != null;
}

export function isInputLinked(node, name) {
  const slot = node.inputs?.findIndex((i) => i.widget?.name === name || i.name === name) ?? -1;
  return slot >= 0 && slotLinked(node, slot);
}

/** The graph the user is looking at: `app.rootGraph` (1.58 deprecates `app.graph`; 1.32 has both). */
export function rootGraph(app) {
  return app?.rootGraph ?? app?.graph;
}

export function label(node) {
  const title = node.title || node.type || "node";
  return `${title} #${node.id}`;
}

/** URL of an image a node shows: its last output/preview images, or a LoadImage selection. */
export function nodeImageUrl(node, app, api) {
  try {
    const outputs = app?.nodeOutputs?.[String(node.id)];
    const img = outputs?.images?.[0];
    if (img?.filename) {
      const q = new URLSearchParams({ filename: img.filename, type: img.type ?? "output", subfolder: img.subfolder ?? "" });
      return api.apiURL(`/view?${q}`);
    }
    const w = widgetOf(node, "image");
    const isLoader = /LoadImage/i.test(node.comfyClass || node.type || "");
    if (isLoader && typeof w?.value === "string" && w.value) {
      let name = w.value.trim();
      let type = "input";
      const m = name.match(/^(.*?)\s*\[(input|output|temp)\]$/);
      if (m) { name = m[1]; type = m[2]; }
      const cut = name.lastIndexOf("/");
      const q = new URLSearchParams({ filename: name.slice(cut + 1), type, subfolder: cut >= 0 ? name.slice(0, cut) : "" });
      return api.apiURL(`/view?${q}`);
    }
  } catch { /* no image */ }
  return null;
}

export function isImageLoader(node) {
  return /LoadImage/i.test(node.comfyClass || node.type || "") && !!widgetOf(node, "image");
}

/** A node that fixes a canvas size through width/height widgets (EmptyLatentImage and kin). */
export function latentSize(node) {
  const w = intValue(widgetOf(node, "width")?.value), h = intValue(widgetOf(node, "height")?.value);
  return w && h ? { w, h } : null;
}

/** Nodes downstream of `start` (breadth first, nearest first), not including it. */
export function downstream(start) {
  const seen = new Set([start.id]);
  const out = [];
  let frontier = [start];
  for (let depth = 0; depth < SEARCH_DEPTH && frontier.length && out.length < SEARCH_NODES; depth++) {
    const next = [];
    for (const n of frontier) {
      (n.outputs ?? []).forEach((_, slot) => {
        let targets = [];
        try { targets = n.getOutputNodes?.(slot) ?? []; } catch { targets = []; }
        for (const t of targets) {
          if (t && !seen.has(t.id)) { seen.add(t.id); out.push(t); next.push(t); }
        }
      });
    }
    frontier = next;
  }
  return out;
}

/** Direct upstream neighbours of `node` (one hop), excluding `exclude`. */
export function upstreamNeighbours(node, exclude) {
  const out = [];
  (node.inputs ?? []).forEach((inp) => {
    const o = originOf(node, inp.name);
    if (o && o.node.id !== exclude.id) out.push(o.node);
  });
  return out;
}

/**
 * Ask the frontend to record the current graph state (workflow modified flag, graph undo):
 * `captureCanvasState()` where it exists (1.58 deprecates `checkState()`, which 1.32 only has).
 */
export function notifyGraphChanged(app) {
  try {
    const tracker = app?.extensionManager?.workflow?.activeWorkflow?.changeTracker;
    if (typeof tracker?.captureCanvasState === "function") tracker.captureCanvasState();
    else tracker?.checkState?.();
    rootGraph(app)?.setDirtyCanvas?.(true, false);
  } catch { /* best effort */ }
}

/**
 * Put `widget` in the place of `old` on `node`: same index in node.widgets (widgets_values is
 * positional), and the input socket of that name bound to it. `make()` adds the new widget
 * (e.g. node.addDOMWidget) and returns it; the socket finds it by name (getWidgetFromSlot). The old
 * widget leaves the list BEFORE the new one is added: on 1.58 node.widgets is store-backed and keyed
 * by name, and a second widget with the same name would be renamed or refused (refusal also unbinds
 * the input socket). removeWidget() is not used for the same reason: it unbinds the socket. On
 * failure the old widget is put back.
 */
export function replaceWidget(node, old, make) {
  const at = node.widgets.indexOf(old);
  if (at < 0) throw new Error(`widget ${old.name} is not on the node`);
  node.widgets.splice(at, 1);
  let widget;
  try {
    widget = make();
    const mine = node.widgets.indexOf(widget);
    if (mine < 0) throw new Error(`the frontend refused the new ${old.name} widget`);
    node.widgets.splice(mine, 1);
    node.widgets.splice(at, 0, widget);
  } catch (e) {
    const mine = widget ? node.widgets.indexOf(widget) : -1;
    if (mine >= 0) node.widgets.splice(mine, 1);
    try { widget?.onRemove?.(); } catch { /* not registered */ }
    node.widgets.splice(at, 0, old);
    throw e;
  }
  old.hidden = true;   // the DOM-widget overlay must never show the old element
  try { old.onRemove?.(); } catch { /* nothing registered yet */ }
  return widget;
}
