// Small DOM helpers shared by the editor's views and dialogs.

/** A new element with class name `cls` and properties `props` assigned. */
export function el(tag, cls, props = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  Object.assign(e, props);
  return e;
}

export function button(text, title, onClick, cls = "deig-be-btn") {
  const b = el("button", cls, { type: "button", textContent: text, title });
  b.addEventListener("click", onClick);
  return b;
}

/** Write to an input only when it is not being typed in (keeps the caret and IME state). */
export function setField(input, value) {
  if (document.activeElement !== input && input.value !== value) input.value = value;
}
