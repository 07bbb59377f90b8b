// The panel for the selected box: its description (with its T5 token count) and its coordinates in
// image pixels. A typed coordinate that would make the box invalid is refused with a message at the
// field; the box is never squashed to fit.

import { instanceColor, instanceInk } from "./colors.js";
import { el, setField } from "./dom.js";
import { t } from "./i18n.js";
import { MIN_BOX_SIDE, pyStrip } from "./layout_json.js";

const NAMES = ["x1", "y1", "x2", "y2"];

/** A coordinate in image pixels: whole for what the pointer drew (it lands on whole pixels), up to two
 * decimals for an imported box or one drawn for another image size. */
function fmtPx(v) {
  return String(Math.round(v * 100) / 100);
}

/** Why `value` (image px) cannot be coordinate `j` of `box` (normalised), or null when it can. */
export function coordProblem(box, j, value, w, h) {
  const size = j % 2 ? h : w;
  const name = NAMES[j];
  // The JSON view's rule (layout_json.js outsideMessage) in pixels; typed pixels get no edge tolerance.
  if (value < 0 || value > size) return t("detail.outside", { name, value: fmtPx(value), size, w, h });
  const other = j < 2 ? j + 2 : j - 2;
  const otherPx = fmtPx(box[other] * size);
  const min = Math.max(1 / size, 2 * MIN_BOX_SIDE) * size;
  const words = { name, value: fmtPx(value), other: NAMES[other], otherValue: otherPx };
  if (j < 2 && value > box[other] * size - min) return t("detail.below", words);
  if (j >= 2 && value < box[other] * size + min) return t("detail.above", words);
  return null;
}

export class DetailPanel {
  /** @param {import("./state.js").LayoutState} state */
  constructor(state, host) {
    this.state = state;
    this.host = host;   // {imageSize(), snap(), readOnly(), tokens(i)}
    this.root = el("div", "deig-be-detail");
    const head = el("div", "deig-be-detail-head");
    this.badge = el("span", "deig-be-badge");
    this.title = el("span", "deig-be-detail-title");
    this.tokens = el("span", "deig-be-tok");
    head.append(this.badge, this.title, this.tokens);
    this.text = el("textarea", "deig-be-text", { rows: 2, placeholder: t("detail.placeholder") });
    this.text.setAttribute("aria-label", t("detail.textLabel"));
    this.text.addEventListener("input", () => {
      const i = this.state.selected;
      if (i >= 0) this.state.setText(i, this.text.value);
    });
    const coords = el("div", "deig-be-coords");
    this.coordInputs = NAMES.map((name, j) => {
      const label = el("label", "deig-be-coord");
      const input = el("input", "deig-be-num", { type: "number", step: "1", min: "0" });
      input.dataset.coord = name;
      input.setAttribute("aria-label", t("detail.coordLabel", { name }));
      input.addEventListener("change", () => this._applyCoord(j, input));
      input.addEventListener("keydown", (e) => { if (e.key === "Enter") this._applyCoord(j, input); });
      label.append(el("span", "", { textContent: name }), input);
      return input;
    });
    this.unit = el("span", "deig-be-unit");
    coords.append(...this.coordInputs.map((i) => i.parentElement));
    this.fieldMsg = el("div", "deig-be-field-msg", { hidden: true });
    this.fieldMsg.setAttribute("role", "alert");
    this.root.append(head, this.text, coords, this.unit, this.fieldMsg);
    this._shownIndex = -1;
  }

  _refuse(input, message) {
    this.coordInputs.forEach((x) => x.removeAttribute("aria-invalid"));
    input.setAttribute("aria-invalid", "true");
    this.fieldMsg.textContent = message;
    this.fieldMsg.hidden = false;
  }

  _clearRefusal() {
    this.coordInputs.forEach((x) => x.removeAttribute("aria-invalid"));
    this.fieldMsg.hidden = true;
    this.fieldMsg.textContent = "";
  }

  _applyCoord(j, input) {
    const i = this.state.selected;
    const it = this.state.items[i];
    const v = Number(input.value);
    if (!it || input.value.trim() === "" || !Number.isFinite(v)) { this._clearRefusal(); this.update(true); return; }
    const { w, h } = this.host.imageSize();
    const problem = coordProblem(it.box, j, v, w, h);
    if (problem) { this._refuse(input, problem); return; }   // the typed text stays, marked, with the reason
    this._clearRefusal();
    const box = it.box.slice();
    box[j] = v / (j % 2 ? h : w);
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
    if (i !== this._shownIndex) { this._clearRefusal(); this._shownIndex = i; }
    // The panel keeps its place when nothing is selected, so the canvas above does not jump.
    this.root.classList.toggle("deig-be-detail-empty", !it);
    if (!it) {
      this.badge.textContent = "–";
      this.badge.style.background = "transparent";
      this.badge.style.color = "inherit";
      this.title.textContent = t(this.state.items.length ? "detail.noneSelected" : "detail.noBoxes");
      this.title.classList.remove("deig-be-warn");
      this.tokens.textContent = "";
      this.text.value = "";
      this.text.disabled = true;
      this.coordInputs.forEach((input) => { input.value = ""; input.disabled = true; });
      this.unit.textContent = "";
      return;
    }
    this.text.disabled = false;
    this.coordInputs.forEach((input) => { input.disabled = false; });
    const ro = this.host.readOnly();
    this.badge.textContent = String(i + 1);
    this.badge.style.background = instanceColor(i);
    this.badge.style.color = instanceInk(i);
    this.title.textContent = t(pyStrip(it.text) ? "detail.instance" : "detail.instanceNeedsText", { n: i + 1 });
    this.title.classList.toggle("deig-be-warn", !pyStrip(it.text));
    const tok = this.host.tokens(i);
    this.tokens.textContent = tok ? t(tok.count > tok.max ? "detail.tokensCut" : "detail.tokens", tok) : "";
    this.tokens.classList.toggle("deig-be-over", !!tok && tok.count > tok.max);
    setField(this.text, it.text);
    this.text.readOnly = ro;
    const { w, h } = this.host.imageSize();
    const step = this.host.snap() ? "8" : "1";
    this.coordInputs.forEach((input, j) => {
      const px = fmtPx(it.box[j] * (j % 2 ? h : w));
      if (input.getAttribute("aria-invalid") === "true" && document.activeElement === input) return;
      if (force && document.activeElement === input) input.value = px;
      else setField(input, px);
      input.step = step;
      input.max = String(j % 2 ? h : w);
      input.readOnly = ro;
    });
    this.unit.textContent = t("detail.unit", { w, h });
  }
}
