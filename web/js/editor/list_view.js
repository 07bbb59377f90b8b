// The instance list (one row per box: number, description, up/down/delete) and the panel for the
// selected box (description textarea and numeric coordinates in image pixels).

import { instanceColor, instanceInk } from "./colors.js";
import { MIN_BOX_SIDE, pyStrip } from "./layout_json.js";
import { el } from "./dom.js";

/** Write to an input only when it is not being typed in (keeps the caret and IME state). */
function setField(input, value) {
  if (document.activeElement !== input && input.value !== value) input.value = value;
}

function fmtPx(v) {
  const r = Math.round(v * 100) / 100;
  return String(r);
}

export class DetailPanel {
  /** @param {import("./state.js").LayoutState} state */
  constructor(state, host) {
    this.state = state;
    this.host = host;   // {imageSize(), snap(), readOnly()}
    this.root = el("div", "deig-be-detail");
    const head = el("div", "deig-be-detail-head");
    this.badge = el("span", "deig-be-badge");
    this.title = el("span", "deig-be-detail-title");
    head.append(this.badge, this.title);
    this.text = el("textarea", "deig-be-text", { rows: 2, placeholder: "describe this instance (colour, material, details)" });
    this.text.setAttribute("aria-label", "Description of the selected box");
    this.text.addEventListener("input", () => {
      const i = this.state.selected;
      if (i >= 0) this.state.setText(i, this.text.value);
    });
    const coords = el("div", "deig-be-coords");
    this.coordInputs = ["x1", "y1", "x2", "y2"].map((name, j) => {
      const label = el("label", "deig-be-coord");
      const input = el("input", "deig-be-num", { type: "number", step: "1", min: "0" });
      input.dataset.coord = name;
      input.setAttribute("aria-label", `${name} in image pixels`);
      input.addEventListener("change", () => this._applyCoord(j, input));
      input.addEventListener("keydown", (e) => { if (e.key === "Enter") this._applyCoord(j, input); });
      label.append(el("span", "", { textContent: name }), input);
      return input;
    });
    this.unit = el("span", "deig-be-unit");
    coords.append(...this.coordInputs.map((i) => i.parentElement), this.unit);
    this.root.append(head, this.text, coords);
  }

  _applyCoord(j, input) {
    const i = this.state.selected;
    const it = this.state.items[i];
    const v = Number(input.value);
    if (!it || input.value.trim() === "" || !Number.isFinite(v)) { this.update(true); return; }
    const { w, h } = this.host.imageSize();
    const size = j % 2 ? h : w;
    const box = it.box.slice();
    box[j] = Math.min(Math.max(v, 0), size) / size;
    // Keep a positive size: a coordinate typed past its partner pushes the partner along.
    const min = Math.max(1 / size, 2 * MIN_BOX_SIDE);
    if (j < 2 && box[j] >= box[j + 2]) {
      box[j + 2] = Math.min(1, box[j] + min);
      box[j] = Math.min(box[j], box[j + 2] - min);
    }
    if (j >= 2 && box[j] <= box[j - 2]) {
      box[j - 2] = Math.max(0, box[j] - min);
      box[j] = Math.max(box[j], box[j - 2] + min);
    }
    this.state.setBox(i, box);
    this.update(true);
  }

  focusText() {
    if (this.text.disabled) return;
    this.text.focus({ preventScroll: true });
    this.text.select();
  }

  update(force = false) {
    const i = this.state.selected;
    const it = this.state.items[i];
    // The panel keeps its place when nothing is selected, so the canvas above does not jump.
    this.root.classList.toggle("deig-be-detail-empty", !it);
    if (!it) {
      this.badge.textContent = "–";
      this.badge.style.background = "transparent";
      this.badge.style.color = "inherit";
      this.title.textContent = this.state.items.length ? "no box selected: click one to edit it"
        : "no boxes yet: drag on the canvas to draw one";
      this.title.classList.remove("deig-be-warn");
      this.text.value = "";
      this.text.disabled = true;
      this.coordInputs.forEach((input) => { input.value = ""; input.disabled = true; });
      return;
    }
    this.text.disabled = false;
    this.coordInputs.forEach((input) => { input.disabled = false; });
    const ro = this.host.readOnly();
    this.badge.textContent = String(i + 1);
    this.badge.style.background = instanceColor(i);
    this.badge.style.color = instanceInk(i);
    this.title.textContent = pyStrip(it.text) ? `instance ${i + 1}` : `instance ${i + 1}: needs a description`;
    this.title.classList.toggle("deig-be-warn", !pyStrip(it.text));
    setField(this.text, it.text);
    this.text.readOnly = ro;
    const { w, h } = this.host.imageSize();
    const step = this.host.snap() ? "8" : "1";
    this.coordInputs.forEach((input, j) => {
      const px = fmtPx(it.box[j] * (j % 2 ? h : w));
      if (force && document.activeElement === input) input.value = px;
      else setField(input, px);
      input.step = step;
      input.max = String(j % 2 ? h : w);
      input.readOnly = ro;
    });
    this.unit.textContent = `px of ${w}×${h}`;
  }
}

export class ListView {
  /** @param {import("./state.js").LayoutState} state */
  constructor(state, host) {
    this.state = state;
    this.host = host;
    this.root = el("ol", "deig-be-list");
    this.root.setAttribute("aria-label", "Instances");
    this.rows = [];
  }

  _makeRow() {
    const row = el("li", "deig-be-row");
    const badge = el("button", "deig-be-badge", { type: "button", title: "Select this box" });
    const text = el("input", "deig-be-row-text", { type: "text", placeholder: "description" });
    const up = el("button", "deig-be-icon", { type: "button", textContent: "▲", title: "Move up (lower number)" });
    const down = el("button", "deig-be-icon", { type: "button", textContent: "▼", title: "Move down (higher number)" });
    const del = el("button", "deig-be-icon deig-be-danger", { type: "button", textContent: "✕", title: "Delete this box" });
    row.append(badge, text, up, down, del);
    const r = { row, badge, text, up, down, del, index: -1 };
    badge.addEventListener("click", () => this.state.select(r.index));
    text.addEventListener("focus", () => this.state.select(r.index));
    text.addEventListener("input", () => this.state.setText(r.index, text.value));
    up.addEventListener("click", () => this.state.reorder(r.index, -1));
    down.addEventListener("click", () => this.state.reorder(r.index, 1));
    del.addEventListener("click", () => this.state.remove(r.index));
    row.addEventListener("pointerdown", (e) => {
      if (e.target === row) this.state.select(r.index);
    });
    return r;
  }

  update() {
    const items = this.state.items;
    while (this.rows.length < items.length) {
      const r = this._makeRow();
      this.rows.push(r);
      this.root.append(r.row);
    }
    while (this.rows.length > items.length) this.rows.pop().row.remove();
    const ro = this.host.readOnly();
    items.forEach((it, i) => {
      const r = this.rows[i];
      r.index = i;
      r.row.classList.toggle("deig-be-selected", i === this.state.selected);
      r.row.classList.toggle("deig-be-missing", !pyStrip(it.text));
      r.badge.textContent = String(i + 1);
      r.badge.style.background = instanceColor(i);
      r.badge.style.color = instanceInk(i);
      r.badge.setAttribute("aria-label", `Select instance ${i + 1}`);
      r.text.setAttribute("aria-label", `Description of instance ${i + 1}`);
      setField(r.text, it.text);
      r.text.readOnly = ro;
      r.up.disabled = ro || i === 0;
      r.down.disabled = ro || i === items.length - 1;
      r.del.disabled = ro;
    });
    this.root.hidden = items.length === 0;
  }
}
