// The instance list: one row per box (number, description, T5 token count, up/down/delete). It
// shows up to LIST_ROWS rows and scrolls beyond that, with its own scroll track beside the rows (the
// platform's scrollbar may be an invisible overlay) and a "n more below" hint.

import { instanceColor, instanceInk } from "./colors.js";
import { el, setField } from "./dom.js";
import { t } from "./i18n.js";
import { pyStrip } from "./layout_json.js";

export const LIST_ROWS = 8;

export class ListView {
  /** @param {import("./state.js").LayoutState} state */
  constructor(state, host) {
    this.state = state;
    this.host = host;   // {readOnly(), tokens(i)}
    this.root = el("div", "deig-be-listbox");
    this.list = el("ol", "deig-be-list");
    this.list.setAttribute("aria-label", t("list.label"));
    this.list.style.setProperty("--deig-rows", String(LIST_ROWS));
    this.list.dataset.captureWheel = "true";
    this.more = el("div", "deig-be-more", { hidden: true });
    this.track = el("div", "deig-be-track", { hidden: true, title: t("list.more") });
    this.thumb = el("div", "deig-be-thumb");
    this.track.append(this.thumb);
    this.track.addEventListener("pointerdown", (e) => {
      const t = this.thumb.getBoundingClientRect();
      const page = this.list.clientHeight * 0.9;
      if (e.clientY < t.top) this.list.scrollTop -= page;
      else if (e.clientY > t.bottom) this.list.scrollTop += page;
      e.preventDefault();
    });
    this.list.addEventListener("scroll", () => this._updateMore());
    const rows = el("div", "deig-be-rows");
    rows.append(this.list, this.track);
    this.root.append(rows, this.more);
    this.rows = [];
  }

  _makeRow() {
    const row = el("li", "deig-be-row");
    const badge = el("button", "deig-be-badge", { type: "button", title: t("list.select") });
    const text = el("input", "deig-be-row-text", { type: "text", placeholder: t("list.placeholder") });
    const tok = el("span", "deig-be-tok");
    const up = el("button", "deig-be-icon", { type: "button", textContent: "▲", title: t("list.up") });
    const down = el("button", "deig-be-icon", { type: "button", textContent: "▼", title: t("list.down") });
    const del = el("button", "deig-be-icon deig-be-danger", { type: "button", textContent: "✕", title: t("list.remove") });
    row.append(badge, text, tok, up, down, del);
    const r = { row, badge, text, tok, up, down, del, index: -1 };
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

  /** "n more below/above": the rows the list scrolls to, said in words next to the scrollbar. */
  _updateMore() {
    const l = this.list;
    const rowH = this.rows[0]?.row.offsetHeight || 1;
    const below = Math.round(Math.max(0, l.scrollHeight - l.clientHeight - l.scrollTop) / rowH);
    const above = Math.round(l.scrollTop / rowH);
    const parts = [];
    if (above > 0) parts.push(t("list.above", { n: above }));
    if (below > 0) parts.push(t("list.below", { n: below }));
    this.more.textContent = parts.length ? t("list.scroll", { where: parts.join(", ") }) : "";
    this.more.hidden = !parts.length;
    const scrolls = l.scrollHeight > l.clientHeight + 1;
    this.track.hidden = !scrolls;
    if (scrolls) {
      const h = l.clientHeight, frac = h / l.scrollHeight;
      this.thumb.style.height = `${Math.max(12, h * frac)}px`;
      this.thumb.style.top = `${(l.scrollTop / l.scrollHeight) * h}px`;
    }
  }

  update() {
    const items = this.state.items;
    while (this.rows.length < items.length) {
      const r = this._makeRow();
      this.rows.push(r);
      this.list.append(r.row);
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
      r.badge.setAttribute("aria-label", t("list.selectInstance", { n: i + 1 }));
      r.text.setAttribute("aria-label", t("list.instanceText", { n: i + 1 }));
      r.text.title = it.text;
      setField(r.text, it.text);
      r.text.readOnly = ro;
      const tok = this.host.tokens(i);
      r.tok.textContent = tok ? String(tok.count) : "";
      r.tok.title = tok ? t(tok.count > tok.max ? "list.tokensCut" : "list.tokens", tok) : "";
      r.tok.classList.toggle("deig-be-over", !!tok && tok.count > tok.max);
      r.up.disabled = ro || i === 0;
      r.down.disabled = ro || i === items.length - 1;
      r.del.disabled = ro;
    });
    this.root.hidden = items.length === 0;
    const sel = this.rows[this.state.selected]?.row;
    if (sel && this._lastSelected !== this.state.selected) {
      // Only the list scrolls (scrollIntoView would also move the graph's containers).
      const l = this.list, top = sel.offsetTop;   // the list is position: relative
      if (top < l.scrollTop) l.scrollTop = top;
      else if (top + sel.offsetHeight > l.scrollTop + l.clientHeight) l.scrollTop = top + sel.offsetHeight - l.clientHeight;
    }
    this._lastSelected = this.state.selected;
    this._updateMore();
  }
}
