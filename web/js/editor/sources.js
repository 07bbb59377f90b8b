// What the box editor takes from the graph around its node: the image size (one rule, stated in the
// status line), the background image, the DEIG Encode it feeds (its prompt) and that encode's T5
// loader (for token counts), and the model files the graph's loaders name.
// Defensive like node_glue.js: a graph it does not understand gives "no answer", never an exception.

import { t } from "./i18n.js";
import {
  downstream, intValue, isImageLoader, label, latentSize, nodeImageUrl, originOf, upstreamNeighbours, widgetOf,
} from "./node_glue.js";

const PREVIEW_CLASS = "DEIG_PreviewLayout";
const ENCODE_CLASS = "DEIG_Encode";
const UPSTREAM_DEPTH = 4;
// Loader widgets that name a model file (the server knows their folders: nodes/routes.py).
export const MODEL_INPUTS = ["ckpt_name", "lora_name", "vae_name", "deig_name", "t5_name", "control_net_name", "unet_name"];

// The rule, in words, is the status line's tooltip ("status.sizeRule" in locales/*/main.json).

const classOf = (n) => n?.comfyClass || n?.type || "";
/** Only output nodes show images (an image left in app.nodeOutputs under a reused id is not theirs). */
const showsImages = (n) => n?.constructor?.nodeData?.output_node !== false;

/**
 * The image size the layout is drawn for, by the size rule ("status.sizeRule"). `imageSize(url)` gives {w, h} of a loaded
 * image or null (still loading). Returns {w, h, kind, label, own, watch}: `watch` lists the widgets
 * whose values decide the answer (the editor re-reads the graph when one of them changes).
 */
export function findSizeSource(node, app, api, imageSize) {
  const ownW = widgetOf(node, "width"), ownH = widgetOf(node, "height");
  const own = { w: intValue(ownW?.value) ?? 512, h: intValue(ownH?.value) ?? 512 };
  const watch = [ownW, ownH].filter(Boolean);
  const answer = (s, kind, what, more = []) => ({ ...s, kind, label: what, own, watch: [...watch, ...more.filter(Boolean)] });
  try {
    const ow = originOf(node, "width"), oh = originOf(node, "height");
    if (ow && oh) {
      const ww = widgetOf(ow.node, "value") ?? widgetOf(ow.node, ow.output);
      const hw = widgetOf(oh.node, "value") ?? widgetOf(oh.node, oh.output);
      const w = intValue(ww?.value), h = intValue(hw?.value);
      if (w && h) return answer({ w, h }, "link", t("status.linkedInputs"), [ww, hw]);
    }
    const m = originOf(node, "masks");
    if (m && isImageLoader(m.node)) {
      const s = imageSize(nodeImageUrl(m.node, app, api));
      if (s) return answer(s, "image", t("status.onMasks", { node: label(m.node) }), [widgetOf(m.node, "image")]);
    }
    for (const d of downstream(node)) {
      for (const u of upstreamNeighbours(d, node)) {
        const ls = latentSize(u);
        if (ls && u.outputs?.some((o) => o.type === "LATENT")) {
          return answer(ls, "latent", label(u), [widgetOf(u, "width"), widgetOf(u, "height")]);
        }
        if (isImageLoader(u)) {
          const s = imageSize(nodeImageUrl(u, app, api));
          if (s) return answer(s, "image", label(u), [widgetOf(u, "image")]);
        }
      }
    }
  } catch { /* fall back to the widgets */ }
  return answer(own, "widgets", t("status.ownSize"));
}

/**
 * The nodes whose links decide what findSizeSource and findBackground answer: this node, the nodes
 * it feeds and the other nodes feeding those (the editor re-reads the graph when a link at one of
 * them is made or removed; a user's change elsewhere arrives as the frontend's graphChanged).
 */
export function linkWatchNodes(node) {
  const out = new Set([node]);
  try {
    for (const d of downstream(node)) {
      out.add(d);
      for (const u of upstreamNeighbours(d, node)) out.add(u);
    }
  } catch { /* this node only */ }
  return [...out];
}

/** Status-line words for a size answer: where it comes from and what it overrides. */
export function sizeStatus(size) {
  const { w, h, kind, label: from, own } = size;
  const text = t("status.sizeFrom", { w, h, source: from });
  if (kind === "widgets") return text;   // the tooltip (the size rule) says what a connection would change
  if (own.w !== w || own.h !== h) return t("status.sizeWins", { text, w: own.w, h: own.h });
  return text;
}

/** True when node `n` shows an image that went through a DEIG Preview Layout (boxes drawn in). */
function throughPreview(n) {
  const seen = new Set([n.id]);
  let frontier = [n];
  for (let depth = 0; depth < UPSTREAM_DEPTH && frontier.length; depth++) {
    const next = [];
    for (const x of frontier) {
      for (const inp of x.inputs ?? []) {
        const o = originOf(x, inp.name);
        if (!o || seen.has(o.node.id)) continue;
        if (classOf(o.node) === PREVIEW_CLASS) return true;
        seen.add(o.node.id);
        next.push(o.node);
      }
    }
    frontier = next;
  }
  return false;
}

/** URL of the image `origin` produces: its own shown image, or one shown by a node it feeds. */
function shownImageOf(origin, app, api, skip) {
  const own = showsImages(origin) ? nodeImageUrl(origin, app, api) : null;
  if (own) return { url: own, node: origin };
  for (let slot = 0; slot < (origin.outputs?.length ?? 0); slot++) {
    let targets = [];
    try { targets = origin.getOutputNodes?.(slot) ?? []; } catch { targets = []; }
    for (const t of targets) {
      if (!t || t.id === skip?.id || classOf(t) === PREVIEW_CLASS || !showsImages(t)) continue;
      const url = nodeImageUrl(t, app, api);
      if (url) return { url, node: t };
    }
  }
  return null;
}

/**
 * Background image, best first: a LoadImage feeding the masks input or a node this layout flows
 * into; then the generated image itself (the image a DEIG Preview Layout downstream draws on, or
 * the last image an output node downstream shows), never an image with the boxes already drawn in.
 */
export function findBackground(node, app, api) {
  try {
    const m = originOf(node, "masks");
    if (m && isImageLoader(m.node)) {
      const url = nodeImageUrl(m.node, app, api);
      if (url) return { url, label: label(m.node) };
    }
    const down = downstream(node);
    for (const d of down) {
      for (const u of upstreamNeighbours(d, node)) {
        if (isImageLoader(u)) {
          const url = nodeImageUrl(u, app, api);
          if (url) return { url, label: label(u) };
        }
      }
    }
    for (const d of down) {
      if (classOf(d) !== PREVIEW_CLASS) continue;
      const o = originOf(d, "image");
      const shown = o && shownImageOf(o.node, app, api, d);
      if (shown) return { url: shown.url, label: t("status.lastOutput", { node: label(shown.node) }) };
    }
    for (const d of down) {
      if (isImageLoader(d) || classOf(d) === PREVIEW_CLASS || !showsImages(d) || throughPreview(d)) continue;
      const url = nodeImageUrl(d, app, api);
      if (url) return { url, label: t("status.lastOutput", { node: label(d) }) };
    }
  } catch { /* no background */ }
  return null;
}

/** The DEIG Encode nodes this layout feeds directly whose prompt is a widget (not a link). */
export function findEncodes(node) {
  const out = [];
  try {
    for (let slot = 0; slot < (node.outputs?.length ?? 0); slot++) {
      for (const t of node.getOutputNodes?.(slot) ?? []) {
        const w = widgetOf(t, "prompt");
        if (classOf(t) === ENCODE_CLASS && w && !out.includes(t)) out.push(t);
      }
    }
  } catch { /* none */ }
  return out;
}

/** The t5_name chosen on the T5 loader feeding the first DEIG Encode this layout feeds, or null. */
export function findT5Name(node) {
  for (const enc of findEncodes(node)) {
    const o = originOf(enc, "t5");
    const v = o && widgetOf(o.node, "t5_name")?.value;
    if (typeof v === "string" && v) return v;
  }
  return null;
}

/** Every model file the graph's active loader nodes name: [{node, title, input, value}]. */
export function modelChoices(graph) {
  const out = [];
  for (const n of graph?.nodes ?? []) {
    if (n.mode === 2 || n.mode === 4) continue;   // muted or bypassed: not run
    for (const w of n.widgets ?? []) {
      if (!MODEL_INPUTS.includes(w.name)) continue;
      out.push({ node: n.id, title: n.title || classOf(n), input: w.name, value: typeof w.value === "string" ? w.value : "" });
    }
  }
  return out;
}
