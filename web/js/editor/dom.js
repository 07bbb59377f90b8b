// Small DOM helper shared by the editor's views and dialogs.
// Helper module: only exports, no side effects (the frontend imports every .js file it serves).

/** A new element with class name `cls` and properties `props` assigned. */
export function el(tag, cls, props = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  Object.assign(e, props);
  return e;
}
