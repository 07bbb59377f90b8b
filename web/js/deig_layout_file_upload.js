// ComfyUI-DEIG: an upload button on the layout-file nodes (DEIG Layout from File, DEIG Layouts from File).
//
// Like LoadImage's: the button opens a file chooser for .json / .jsonl (or a file is dropped on the node),
// stores the file in ComfyUI's input folder through the host's upload route, adds it to the node's "file"
// list and selects it. A dropped file of another kind is left to the frontend (a workflow still loads). Then it asks
// the pack what the node reads from that file (POST /deig/layout_file) and says so in a toast: the number
// of entries, or the error the node would give when queued. The node keeps saying it in a note under its
// inputs (after the toast has gone, and for a file chosen from the list or a loaded workflow): what the
// file holds, which entries a run takes (count 0 = all from start), and that entry_id names each
// image's entry. Button and note are not serialised, so saved workflows and API prompts keep
// [file, index] / [file, start, count].

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { loadMessages, t } from "./editor/i18n.js";
import { addNodeNote } from "./editor/node_note.js";
import { watchValue } from "./editor/widget_watch.js";

const NODE_CLASSES = new Set(["DEIG_LayoutFromFile", "DEIG_LayoutsFromFile"]);
const EXTENSION_NAME = "comfyui-deig.layout-file-upload";
// The name is what a 1.32 Vue node shows on the button (it ignores `label`), so it is the words themselves.
const BUTTON_NAME = "choose a layout file to upload";
const ACCEPT = ".json,.jsonl,application/json";
const LAYOUT_FILE = /\.jsonl?$/i;
const FORMAT_NAMES = { "deig-bench": "DEIG-Bench", "mig-bench": "MIG-Bench", jsonl: "JSON Lines", "editor-json": "editor JSON" };
const NOTE = "deig_layout_file_note";
const notes = new Map();   // node -> note (removed with its node)

/** Store `file` in the input folder; the name the host gave it (it renames on a clash). */
async function uploadToInput(file) {
  const body = new FormData();
  body.append("image", file);   // the host's one upload route calls its file field "image" for every kind
  body.append("type", "input");
  const res = await api.fetchApi("/upload/image", { method: "POST", body });
  if (res.status !== 200) throw new Error(`upload of ${file.name} failed: ${res.status} ${res.statusText}`);
  const { name, subfolder } = await res.json();
  return subfolder ? `${subfolder}/${name}` : name;
}

/** What the node reads from `name`: {format, entries}; throws with the node's own error. */
async function summarise(name, nodeClass) {
  const res = await api.fetchApi("/deig/layout_file", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ file: name, node: nodeClass }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 200 || body.error) throw new Error(body.error || `${res.status} ${res.statusText}`);
  return body;
}

function toast(severity, summary, detail) {
  const toasts = app.extensionManager?.toast;
  if (toasts) toasts.add({ severity, summary, detail, life: severity === "error" ? 10000 : 4000 });
  else if (severity === "error") console.error(`[DEIG layout file] ${summary}: ${detail}`);
}

function selectFile(node, combo, name) {
  const values = combo.options?.values;
  if (Array.isArray(values) && !values.includes(name)) {
    values.push(name);
    values.sort();
  }
  combo.value = name;
  combo.callback?.(name);
  node.setDirtyCanvas?.(true, true);
}

const widgetValue = (node, name) => node.widgets?.find((w) => w.name === name)?.value;

/** What the node's file holds and what a run takes from it, in a few lines; [text, kind]. */
async function describe(node) {
  const cls = node.comfyClass ?? node.type;
  const file = widgetValue(node, "file");
  if (!file) return [t("layoutFile.noFile"), "warn"];
  let summary;
  try {
    summary = await summarise(file, cls);
  } catch (e) {
    return [e.message, "error"];
  }
  const { format, entries } = summary;
  const lines = [`${file}: ${t("layoutFile.entries", { count: entries, format: FORMAT_NAMES[format] ?? format })}`];
  const last = entries - 1;
  if (cls === "DEIG_LayoutFromFile") {
    lines.push(t("layoutFile.pick", { last }));
    return [lines.join("\n"), "info"];
  }
  const start = Number(widgetValue(node, "start")) || 0;
  const count = Number(widgetValue(node, "count")) || 0;
  if (start > last) return [[...lines, t("layoutFile.pastEnd", { start, last })].join("\n"), "error"];
  const end = count ? Math.min(last, start + count - 1) : last;
  lines.push(t("layoutFile.runs", { count: end - start + 1, first: start, last: end }) + " " + t("layoutFile.countAll"));
  lines.push(t("layoutFile.entryIds"));
  return [lines.join("\n"), "info"];
}

async function showDescription(node) {
  const note = notes.get(node);
  if (!note) return;
  const asked = (note.asked = (note.asked ?? 0) + 1);
  const [text, kind] = await describe(node);
  if (notes.get(node) === note && note.asked === asked) note.show(text, kind);   // the latest answer only
}

async function uploadAndSelect(node, combo, file) {
  let name;
  try {
    name = await uploadToInput(file);
  } catch (e) {
    toast("error", t("layoutFile.notUploaded"), e.message);
    return;
  }
  selectFile(node, combo, name);
  try {
    const { format, entries } = await summarise(name, node.comfyClass ?? node.type);
    toast("success", t("layoutFile.uploaded"),
      `${name}: ${t("layoutFile.entries", { count: entries, format: FORMAT_NAMES[format] ?? format })}`);
  } catch (e) {
    toast("error", t("layoutFile.unusable", { file: name }), e.message);
  }
}

function addUploadButton(node) {
  const combo = node.widgets?.find((w) => w.name === "file");
  if (!combo || node.widgets.some((w) => w.name === BUTTON_NAME)) return;
  const chooser = document.createElement("input");
  chooser.className = "deig-layout-file-chooser";
  Object.assign(chooser, { type: "file", accept: ACCEPT, hidden: true });
  document.body.append(chooser);   // in the document, as the host's own upload inputs are
  const onRemoved = node.onRemoved;
  node.onRemoved = function (...args) {
    chooser.remove();
    return onRemoved?.apply(this, args);
  };
  chooser.addEventListener("change", () => {
    const file = chooser.files?.[0];
    chooser.value = "";   // choosing the same file again fires change again
    if (file) uploadAndSelect(node, combo, file);
  });
  const button = node.addWidget("button", BUTTON_NAME, null, () => chooser.click(), { serialize: false });
  button.serialize = false;   // last, not under the list: widgets_values of saved workflows map by position
  addFileNote(node);

  // Drop: names are unknown while dragging, so any file is welcome over the node; on the drop, a layout
  // file is taken (true) and anything else goes to a handler the node already had, else back to the
  // frontend (false). Handlers already there are chained, never replaced.
  const onDragOver = node.onDragOver;
  node.onDragOver = function (e, ...rest) {
    return [...(e?.dataTransfer?.items ?? [])].some((item) => item.kind === "file")
      || !!onDragOver?.call(this, e, ...rest);
  };
  const onDragDrop = node.onDragDrop;
  node.onDragDrop = function (e, ...rest) {
    const file = [...(e?.dataTransfer?.files ?? [])].find((f) => LAYOUT_FILE.test(f.name));
    if (!file) return onDragDrop ? onDragDrop.call(this, e, ...rest) : false;
    uploadAndSelect(node, combo, file);
    return true;
  };
}

/** The note under the button, said again whenever the file, start or count changes. */
function addFileNote(node) {
  notes.set(node, addNodeNote(node, NOTE));
  for (const w of node.widgets) {
    if (["file", "start", "count"].includes(w.name)) watchValue(w, () => showDescription(node));
  }
  const onRemoved = node.onRemoved;
  node.onRemoved = function (...args) {
    notes.delete(node);
    return onRemoved?.apply(this, args);
  };
  queueMicrotask(() => showDescription(node));
}

app.registerExtension({
  name: EXTENSION_NAME,
  async init() {
    await loadMessages(api, app);
  },
  // a loaded workflow sets the widgets after the nodes are made
  afterConfigureGraph() {
    for (const node of notes.keys()) showDescription(node);
  },
  nodeCreated(node) {
    if (NODE_CLASSES.has(node.comfyClass ?? node.type)) addUploadButton(node);
  },
});
