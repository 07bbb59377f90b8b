// A few lines of text shown on a node, where the user looks, in both renderers: a DOM widget, last in
// the node's widget list and never saved (saved workflows and API prompts keep only the node's inputs).
// Used by the loaders (a missing model file) and the layout-file nodes (what the chosen file holds).

import { el } from "./dom.js";

const LINE_PX = 16;
const KINDS = { info: "#b8c4d6", warn: "#ffb26b", error: "#ff8f8f" };

/** Add a note widget called `name` to `node`; returns {show(text, kind), clear(), text()}. */
export function addNodeNote(node, name) {
  const box = el("div", "deig-node-note");
  box.setAttribute("role", "status");
  Object.assign(box.style, {
    font: "12px sans-serif", lineHeight: `${LINE_PX}px`, whiteSpace: "pre-wrap", overflowWrap: "anywhere",
    overflow: "hidden", padding: "2px 4px", boxSizing: "border-box",
  });
  let lines = 0;
  const widget = node.addDOMWidget(name, "deig_note", box, {
    serialize: false,
    getValue: () => undefined,
    setValue: () => {},
    getMinHeight: () => lines * LINE_PX + 6,
    getMaxHeight: () => lines * LINE_PX + 6,
  });
  widget.serialize = false;

  const fit = () => {
    // the lines the text wraps to at the node's width: 12 px sans-serif averages under 7 px a character,
    // and a wrapped paragraph loses up to a line to word breaks
    const perLine = Math.max(16, Math.floor(((node.size?.[0] ?? 300) - 28) / 7));
    const text = box.textContent;
    lines = text ? text.split("\n").reduce((n, l) => {
      const wrapped = Math.ceil(l.length / perLine);
      return n + (wrapped > 1 ? wrapped + 1 : 1);
    }, 0) : 0;
    const [w, h] = node.computeSize?.() ?? [0, 0];
    if (node.size && (node.size[1] < h || node.size[0] < w)) node.setSize([Math.max(node.size[0], w), Math.max(node.size[1], h)]);
    node.setDirtyCanvas?.(true, true);
  };
  return {
    widget,
    show(text, kind = "info") {
      box.textContent = text;
      box.title = text;
      box.style.color = KINDS[kind] ?? KINDS.info;
      box.dataset.kind = kind;
      fit();
    },
    clear() {
      box.textContent = "";
      box.title = "";
      delete box.dataset.kind;
      fit();
    },
    text: () => box.textContent,
  };
}
