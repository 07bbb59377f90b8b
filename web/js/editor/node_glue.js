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
    if (slot < 0 || node.inputs[slot].link == null) return null;
    const link = node.getInputLink?.(slot);
    const origin = link ? node.graph?.getNodeById?.(link.origin_id) : null;
    if (!origin) return null;
    return { node: origin, output: origin.outputs?.[link.origin_slot]?.name };
  } catch {
    return null;
  }
}

export function isInputLinked(node, name) {
  return node.inputs?.some((i) => (i.widget?.name === name || i.name === name) && i.link != null) ?? false;
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
    if (inp.link == null) return;
    const o = originOf(node, inp.name);
    if (o && o.node.id !== exclude.id) out.push(o.node);
  });
  return out;
}

/** Ask the frontend to record the current graph state (workflow modified flag, graph undo). */
export function notifyGraphChanged(app) {
  try {
    const tracker = app?.extensionManager?.workflow?.activeWorkflow?.changeTracker;
    if (tracker?.checkState) tracker.checkState();
    app?.graph?.setDirtyCanvas?.(true, false);
  } catch { /* best effort */ }
}
