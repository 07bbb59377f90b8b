// Import / export dialog: paste or load a layout file (any format the Layouts-from-File nodes read:
// editor JSON, DEIG-Bench, MIG-Bench, JSON Lines; an entry picker for files of entries), read by
// parseLayoutDocument with the backend's rules; copy or download the current layout.
// The <dialog> lives in document.body only while open.

import { el } from "./dom.js";
import { t } from "./i18n.js";
import { entryAt, parseLayoutDocument, serializeLayout } from "./layout_json.js";

const DOWNLOAD_NAME = "deig_layout.json";

/**
 * Open the dialog. `onImport(items, {append, caption, setPrompt})` applies an import; `getItems()`
 * gives the layout to export; `promptTarget` names the DEIG Encode whose prompt an entry's
 * caption can go into (null: none connected). Returns the <dialog> (tests and callers may close it).
 */
export function openIoDialog({ getItems, onImport, title = "DEIG layout", promptTarget = null }) {
  const dlg = el("dialog", "deig-be-dialog");
  dlg.setAttribute("aria-label", t("io.label", { title }));
  const head = el("div", "deig-be-dialog-head");
  const close = el("button", "deig-be-btn", { type: "button", textContent: t("io.close") });
  head.append(el("strong", "", { textContent: t("io.heading", { title }) }), close);

  // ---- import ----
  const imp = el("section", "deig-be-dialog-sec");
  imp.append(el("h4", "", { textContent: t("io.import") }));
  const hint = el("p", "deig-be-hint", {
    textContent: t("io.hint", { layout: '[{"box": [x1, y1, x2, y2], "text": "..."}]' }),
  });
  const input = el("textarea", "deig-be-io-text", { rows: 6, placeholder: t("io.placeholder"), spellcheck: false });
  input.setAttribute("aria-label", t("io.importLabel"));
  const file = el("input", "deig-be-file", { type: "file", accept: ".json,.jsonl,application/json,text/plain" });
  file.setAttribute("aria-label", t("io.fileLabel"));
  const benchRow = el("div", "deig-be-bench");
  benchRow.hidden = true;
  const benchIndex = el("input", "deig-be-num", { type: "number", min: "0", step: "1", value: "0" });
  benchIndex.setAttribute("aria-label", t("io.benchIndex"));
  const benchInfo = el("span", "deig-be-bench-info");
  const benchLabel = el("label", "", { textContent: t("io.benchEntry") });
  benchLabel.append(benchIndex);
  // The entry's caption is the global prompt for DEIG Encode; offer it for the clipboard.
  const copyCaption = el("button", "deig-be-btn", { type: "button", textContent: t("io.copyCaption") });
  let caption = "";
  copyCaption.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(caption);
      show(t("io.captionCopied"), false);
    } catch {
      show(t("io.caption", { caption }), false);
    }
  });
  benchRow.append(benchLabel, benchInfo, copyCaption);
  // ... or straight into the prompt of the DEIG Encode this layout feeds, undone with the boxes.
  const promptLabel = el("label", "deig-be-toggle deig-be-set-prompt", { hidden: true });
  const setPrompt = el("input", "", { type: "checkbox", checked: !!promptTarget });
  promptLabel.append(setPrompt, t("io.setPrompt", { target: promptTarget }));
  const modeRow = el("div", "deig-be-mode");
  const replace = el("input", "", { type: "radio", name: `deig-mode-${Date.now()}`, checked: true, value: "replace" });
  const append = el("input", "", { type: "radio", name: replace.name, value: "append" });
  const lr = el("label", ""); lr.append(replace, t("io.replace"));
  const la = el("label", ""); la.append(append, t("io.append"));
  modeRow.append(lr, la);
  const importBtn = el("button", "deig-be-btn deig-be-primary", { type: "button", textContent: t("io.import") });
  const msg = el("div", "deig-be-io-msg");
  msg.setAttribute("role", "status");
  imp.append(hint, input, file, benchRow, promptLabel, modeRow, importBtn, msg);

  // ---- export ----
  const exp = el("section", "deig-be-dialog-sec");
  exp.append(el("h4", "", { textContent: t("io.export") }));
  const out = el("textarea", "deig-be-io-out", { rows: 4, readOnly: true, spellcheck: false });
  out.setAttribute("aria-label", t("io.exportLabel"));
  out.value = serializeLayout(getItems());
  const copy = el("button", "deig-be-btn", { type: "button", textContent: t("io.copy") });
  const download = el("button", "deig-be-btn", { type: "button", textContent: t("io.download") });
  const expMsg = el("span", "deig-be-io-msg");
  exp.append(out, copy, download, expMsg);

  dlg.append(head, imp, exp);

  let parsed = null;
  const show = (text, isError) => {
    msg.textContent = text;
    msg.classList.toggle("deig-be-error-text", !!isError);
  };
  const reparse = () => {
    parsed = null;
    benchRow.hidden = promptLabel.hidden = true;
    const text = input.value.trim();
    if (!text) { show("", false); return; }
    try {
      parsed = parseLayoutDocument(text, "import");
    } catch (e) {
      parsed = null;
      show(e.message, true);
      return;
    }
    if (parsed.format !== "editor-json" || parsed.entries[0].caption) {
      benchRow.hidden = false;
      promptLabel.hidden = !promptTarget;
      benchIndex.max = String(parsed.entries.length - 1);
      updateBench();
    } else {
      show(t("io.ready", { count: parsed.entries[0].items.length }), false);
    }
  };
  const updateBench = () => {
    if (!parsed || benchRow.hidden) return;
    try {
      const entry = entryAt(parsed, Number(benchIndex.value));
      caption = entry.caption;
      benchInfo.textContent = t("io.benchInfo", { total: parsed.entries.length, count: entry.items.length, caption });
      copyCaption.disabled = !caption;
      show("", false);
    } catch (e) {
      caption = "";
      copyCaption.disabled = true;
      benchInfo.textContent = t("io.benchOf", { total: parsed.entries.length });
      show(e.message, true);
    }
  };
  input.addEventListener("input", reparse);
  benchIndex.addEventListener("input", updateBench);
  file.addEventListener("change", async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    try {
      input.value = await f.text();
    } catch (e) {
      show(t("io.unreadable", { file: f.name, error: e.message }), true);
      return;
    }
    reparse();
  });
  importBtn.addEventListener("click", () => {
    if (!parsed) { reparse(); if (!parsed) { if (!msg.textContent) show(t("io.nothing"), true); return; } }
    let items, entryCaption = null;
    try {
      if (benchRow.hidden) items = parsed.entries[0].items;
      else ({ items, caption: entryCaption } = entryAt(parsed, Number(benchIndex.value)));
    } catch (e) {
      show(e.message, true);
      return;
    }
    onImport(items, { append: append.checked, caption: entryCaption, setPrompt: !!promptTarget && setPrompt.checked });
    finish();
  });

  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(out.value);
      expMsg.textContent = t("io.copied");
    } catch {
      out.focus();
      out.select();
      const ok = document.execCommand && document.execCommand("copy");
      expMsg.textContent = ok ? t("io.copied") : t("io.copyByHand");
    }
  });
  download.addEventListener("click", () => {
    const blob = new Blob([out.value], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const a = el("a", "deig-be-download", { href: url, download: DOWNLOAD_NAME, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
    expMsg.textContent = t("io.downloaded", { file: DOWNLOAD_NAME });
  });

  // Keys typed here must not reach the app's shortcuts; Escape still closes the dialog.
  dlg.addEventListener("keydown", (e) => { if (e.key !== "Escape") e.stopPropagation(); });
  const finish = () => { if (dlg.open) dlg.close(); };
  close.addEventListener("click", finish);
  dlg.addEventListener("close", () => dlg.remove());
  dlg.addEventListener("click", (e) => {   // a click on the backdrop (outside the dialog box) closes it
    const r = dlg.getBoundingClientRect();
    const outside = e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom;
    if (e.target === dlg && outside) finish();
  });

  document.body.append(dlg);
  dlg.showModal();
  input.focus();
  return dlg;
}
