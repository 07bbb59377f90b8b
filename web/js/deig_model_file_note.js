// ComfyUI-DEIG: the pack's loaders (DEIG Model Loader, DEIG T5 Encoder Loader) say on the node itself,
// before anything is queued, when the model file they name is not on disk: which file, and the folder it
// goes in. The server answers from the same check the box editor's note uses (POST /deig/missing_models,
// one question for the whole graph, shared with the editor). Queueing such a graph is refused by the
// loader's own validation with the same facts (nodes/nodes_loaders.py).

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { loadMessages, t } from "./editor/i18n.js";
import { rootGraph, widgetOf } from "./editor/node_glue.js";
import { addNodeNote } from "./editor/node_note.js";
import { forgetMissingModels, missingModels } from "./editor/server_checks.js";
import { modelChoices } from "./editor/sources.js";
import { watchValue } from "./editor/widget_watch.js";

const EXTENSION_NAME = "comfyui-deig.model-file-note";
const LOADER_INPUTS = { DEIG_ModelLoader: "deig_name", DEIG_T5Loader: "t5_name" };
const NOTE = "deig_model_file_note";

const notes = new Map();   // node -> note
let queued = false;

function noteText(m) {
  const folder = m.paths?.[0] ?? `models/${m.folder}`;
  return m.value ? t("loader.missing", { file: m.value, folder }) : t("loader.noFile", { folder });
}

async function check() {
  queued = false;
  if (!notes.size) return;
  let missing;
  try {
    missing = await missingModels(api, modelChoices(rootGraph(app)));
  } catch (e) {
    console.warn("[DEIG] could not ask which model files are missing:", e);
    return;
  }
  for (const [node, note] of notes) {
    const input = LOADER_INPUTS[node.comfyClass ?? node.type];
    const m = missing.find((x) => x.node === node.id && x.input === input);
    if (m) note.show(noteText(m), "warn");
    else note.clear();
  }
}

/** Check every loader once, soon (one server question for the changes of one tick). */
function checkSoon() {
  if (queued) return;
  queued = true;
  queueMicrotask(check);
}

function attach(node) {
  const combo = widgetOf(node, LOADER_INPUTS[node.comfyClass ?? node.type]);
  if (!combo || widgetOf(node, NOTE)) return;
  notes.set(node, addNodeNote(node, NOTE));
  watchValue(combo, checkSoon);   // picked in the list, set by a script or loaded from a workflow
  const onRemoved = node.onRemoved;
  node.onRemoved = function (...args) {
    notes.delete(node);
    return onRemoved?.apply(this, args);
  };
  checkSoon();
}

app.registerExtension({
  name: EXTENSION_NAME,
  async init() {
    await loadMessages(api, app);
  },
  setup() {
    api.addEventListener("graphChanged", checkSoon);
  },
  afterConfigureGraph() {
    checkSoon();
  },
  // the model lists were read again (R, or the refresh button): a file may have been put in place
  refreshComboInNodes() {
    forgetMissingModels();
    checkSoon();
  },
  nodeCreated(node) {
    if (LOADER_INPUTS[node?.comfyClass ?? node?.type]) attach(node);
  },
});
