// ComfyUI-DEIG: an upload button on the layout-file nodes (DEIG Layout from File, DEIG Layouts from File).
//
// Like LoadImage's: the button opens a file chooser for .json / .jsonl (or a file is dropped on the node),
// stores the file in ComfyUI's input folder through the host's upload route, adds it to the node's "file"
// list and selects it. A dropped file of another kind is left to the frontend (a workflow still loads). Then it asks
// the pack what the node reads from that file (POST /deig/layout_file) and says so in a toast: the number
// of entries, or the error the node would give when queued. The button is not serialised, so saved
// workflows and API prompts keep [file, index] / [file, start, count].

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { loadMessages, t } from "./editor/i18n.js";

const NODE_CLASSES = new Set(["DEIG_LayoutFromFile", "DEIG_LayoutsFromFile"]);
const EXTENSION_NAME = "comfyui-deig.layout-file-upload";
// The name is what a 1.32 Vue node shows on the button (it ignores `label`), so it is the words themselves.
const BUTTON_NAME = "choose a layout file to upload";
const ACCEPT = ".json,.jsonl,application/json";
const LAYOUT_FILE = /\.jsonl?$/i;
const FORMAT_NAMES = { "deig-bench": "DEIG-Bench", "mig-bench": "MIG-Bench", jsonl: "JSON Lines", layout: "layout" };

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

  // Drop: names are unknown while dragging, so any file is welcome over the node; on the drop, a layout
  // file is taken (true) and anything else is handed back to the frontend (false).
  node.onDragOver = (e) => [...(e?.dataTransfer?.items ?? [])].some((item) => item.kind === "file");
  node.onDragDrop = (e) => {
    const file = [...(e?.dataTransfer?.files ?? [])].find((f) => LAYOUT_FILE.test(f.name));
    if (!file) return false;
    uploadAndSelect(node, combo, file);
    return true;
  };
}

app.registerExtension({
  name: EXTENSION_NAME,
  async init() {
    await loadMessages(api, app);
  },
  nodeCreated(node) {
    if (NODE_CLASSES.has(node.comfyClass ?? node.type)) addUploadButton(node);
  },
});
