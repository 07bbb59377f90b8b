// Small DOM helper shared by the editor's views and dialogs.

/** A new element with class name `cls` and properties `props` assigned. */
export function el(tag, cls, props = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  Object.assign(e, props);
  return e;
}
