// Watching slots of other nodes' objects that the editor depends on: a widget's `value` (its own
// width/height, a connected Empty Latent Image's width/height, a Load Image's file: every way a value
// changes, typed in the classic canvas or a Vue widget, set by a script, loaded from a workflow, goes
// through the widget's `value` setter) and a node's `onConnectionsChange` (every link made or removed
// at that node). Each slot is wrapped once per object, whatever the number of watchers, and only while
// someone watches: the last watcher to stop puts the slot back as it was. A slot that someone else
// wrapped after us keeps its wrapper chain; ours in it then calls nobody.

const hooks = new WeakMap();   // object -> Map(slot name -> {fns: Set, restore()})

function notify(fns, args) {
  for (const fn of [...fns]) {
    try { fn(...args); } catch (e) { console.warn("[DEIG box editor]", e); }
  }
}

/** Call fn on each event of slot `key` of `obj` (installed by `install(obj, fns) -> restore | null`). */
function watchSlot(obj, key, fn, install) {
  if (!obj || typeof obj !== "object") return () => {};
  let slots = hooks.get(obj);
  if (!slots) hooks.set(obj, (slots = new Map()));
  let hook = slots.get(key);
  if (!hook) {
    const fns = new Set();
    let restore = null;
    try { restore = install(obj, fns); } catch { restore = null; }
    if (!restore) return () => {};
    hook = { fns, restore };
    slots.set(key, hook);
  }
  hook.fns.add(fn);
  let watching = true;
  return () => {
    if (!watching) return;
    watching = false;
    hook.fns.delete(fn);
    if (hook.fns.size || slots.get(key) !== hook) return;
    slots.delete(key);
    try { hook.restore(); } catch { /* the object changed shape meanwhile */ }
  };
}

function findDescriptor(obj) {
  for (let o = obj; o; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, "value");
    if (d) return { d, own: o === obj };
  }
  return { d: { value: undefined, writable: true, configurable: true }, own: false };
}

function installValue(widget, fns) {
  const { d, own } = findDescriptor(widget);
  if (own && d.configurable === false) return null;
  const accessor = !!(d.get || d.set);
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
      if (get() !== before) notify(fns, [widget]);
    },
  });
  return () => {
    if (Object.getOwnPropertyDescriptor(widget, "value")?.get !== get) return;   // redefined since: theirs stays
    if (own && accessor) Object.defineProperty(widget, "value", d);
    else if (own) Object.defineProperty(widget, "value", { ...d, value: stored });
    else {
      delete widget.value;
      if (!accessor && stored !== d.value) widget.value = stored;   // a plain field again, with its value
    }
  };
}

function installMethod(key) {
  return (obj, fns) => {
    const had = Object.getOwnPropertyDescriptor(obj, key);
    if (had && (had.get || had.set || had.configurable === false)) return null;
    const prev = obj[key];
    const wrapper = function (...args) {
      const r = typeof prev === "function" ? prev.apply(this, args) : undefined;
      notify(fns, args);
      return r;
    };
    obj[key] = wrapper;
    return () => {
      if (obj[key] !== wrapper) return;   // chained on top of ours since: the chain stays
      if (had) Object.defineProperty(obj, key, had);
      else delete obj[key];
    };
  };
}

const installConnections = installMethod("onConnectionsChange");

/** Call `fn(widget)` after each change of `widget.value`. Returns a function that stops it. */
export function watchValue(widget, fn) {
  return watchSlot(widget, "value", fn, installValue);
}

/** Call `fn()` after each link made or removed at `node`. Returns a function that stops it. */
export function watchConnections(node, fn) {
  return watchSlot(node, "onConnectionsChange", () => fn(), installConnections);
}
