// Value watching for widgets the editor depends on (its own width/height, a connected Empty Latent
// Image's width/height, a Load Image's file): every way a value changes (typed in the classic canvas
// or a Vue widget, set by a script, loaded from a workflow) goes through the widget's `value`
// setter, so the watch wraps that setter on the widget object once and calls the listeners after it.

const listeners = new WeakMap();   // widget -> Set of callbacks

function findDescriptor(obj) {
  for (let o = obj; o; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, "value");
    if (d) return { d, own: o === obj };
  }
  return { d: { value: undefined, writable: true, configurable: true }, own: false };
}

function install(widget, set) {
  const { d, own } = findDescriptor(widget);
  if (own && d.configurable === false) return false;
  let stored = d.value;
  // The original accessors run on the widget object itself (never on a renderer's proxy of it:
  // they may read private fields).
  const get = d.get ? () => d.get.call(widget) : () => stored;
  const put = d.set ? (v) => d.set.call(widget, v) : d.get ? null : (v) => { stored = v; };
  Object.defineProperty(widget, "value", {
    configurable: true,
    enumerable: d.enumerable ?? true,
    get,
    set(v) {
      const before = get();
      put?.(v);
      if (get() === before) return;
      for (const fn of [...set]) {
        try { fn(widget); } catch (e) { console.warn("[DEIG box editor]", e); }
      }
    },
  });
  return true;
}

/** Call `fn(widget)` after each change of `widget.value`. Returns a function that stops it. */
export function watchValue(widget, fn) {
  if (!widget || typeof widget !== "object") return () => {};
  let set = listeners.get(widget);
  if (!set) {
    set = new Set();
    try {
      if (!install(widget, set)) return () => {};
    } catch {
      return () => {};
    }
    listeners.set(widget, set);
  }
  set.add(fn);
  return () => set.delete(fn);
}
