// The status line (image size and where it comes from, box count, background) and the notes under
// the canvas: what still needs doing before queueing (descriptions, missing model files) and what
// DEIG will do differently from what is drawn (descriptions cut at 128 T5 tokens, more boxes than
// the 30 it was trained with).

import { el } from "./dom.js";
import { t } from "./i18n.js";
import { sizeStatus } from "./sources.js";

/** DEIG was trained with up to this many instances (deig_core.layout.TRAINED_MAX_INSTANCES). */
export const TRAINED_MAX_INSTANCES = 30;

function modelLine(m) {
  const what = m.value || t("status.noFileChosen");
  const where = m.paths?.length ? m.paths[0] : `models/${m.folder}`;
  return `${what} → ${where}/  (${m.title} #${m.node})`;
}

export class StatusView {
  constructor() {
    this.status = el("div", "deig-be-status");
    this.sizeText = el("span", "deig-be-size", { title: t("status.sizeRule") });
    this.countText = el("span", "deig-be-count");
    this.status.append(this.sizeText, this.countText);
    this.notes = el("div", "deig-be-notes");
    this.note = el("div", "deig-be-note", { hidden: true });
    this.note.setAttribute("role", "status");
    this.models = el("div", "deig-be-note deig-be-models", { hidden: true });
    this.models.setAttribute("role", "alert");
    this.notes.append(this.note, this.models);
  }

  /**
   * view: {size, count, bgLabel (string|null), readOnly, missingText ([numbers]), tokens ([{count, max}|null]),
   *        missingModels ([{node, title, input, value, folder, paths}]|null)}
   */
  update(view) {
    const { size, count } = view;
    this.sizeText.textContent = sizeStatus(size);
    this.countText.textContent = ` · ${t("editor.boxes", { count })}`
      + (view.bgLabel ? ` · ${t("status.imageFrom", { source: view.bgLabel })}` : "");

    const lines = [];
    if (view.readOnly) lines.push(t("status.readOnly"));
    const missing = view.missingText;
    if (!view.readOnly && missing.length) {
      lines.push(t("status.needsText", { count: missing.length, boxes: missing.join(", ") }));
    }
    const over = [];
    (view.tokens ?? []).forEach((t, i) => { if (t && t.count > t.max) over.push(`${i + 1} (${t.count})`); });
    if (over.length) {
      const max = view.tokens.find(Boolean).max;
      lines.push(t("status.tooLong", { count: over.length, boxes: over.join(", "), max }));
    }
    if (count > TRAINED_MAX_INSTANCES) {
      lines.push(t("status.tooMany", { count, max: TRAINED_MAX_INSTANCES }));
    }
    this.note.textContent = lines.join("\n");
    this.note.hidden = !lines.length;

    const mm = view.missingModels ?? [];
    this.models.replaceChildren();
    if (mm.length) {
      this.models.append(el("strong", "", { textContent: t("status.missingModels", { count: mm.length }) }));
      const ul = el("ul", "");
      for (const m of mm) ul.append(el("li", "", { textContent: modelLine(m) }));
      this.models.append(ul);
    }
    this.models.hidden = !mm.length;
  }
}
