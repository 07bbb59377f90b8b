// The pack's words in the user's frontend language. The strings live in locales/<lang>/main.json under
// "deig" (the host serves every pack's locales/ merged at GET /i18n, which both frontends read too); the
// language is the frontend's "Comfy.Locale" setting (its default: the browser's language). A language
// the pack lacks falls back to its base language ("zh-TW" -> "zh"), then to English; so does a missing
// string. Placeholders are {name}; a count picks "one" or "other" when the message has both.

const NAMESPACE = "deig";
const FALLBACK = "en";

let bundles = {};        // lang -> the "deig" tree of that language
let loading = null;
let settingOf = () => null;

/** Read the messages once (later calls share the first request); `app` gives the locale setting. */
export function loadMessages(api, app) {
  settingOf = (id) => {
    try {
      return app?.extensionManager?.setting?.get?.(id) ?? app?.ui?.settings?.getSettingValue?.(id) ?? null;
    } catch {
      return null;
    }
  };
  loading ??= (async () => {
    try {
      const res = await api.fetchApi("/i18n");
      if (!res.ok) throw new Error(`GET /i18n: HTTP ${res.status}`);
      const all = await res.json();
      bundles = Object.fromEntries(Object.entries(all).filter(([, m]) => m?.[NAMESPACE]).map(([lang, m]) => [lang, m[NAMESPACE]]));
    } catch (e) {
      console.warn("[DEIG] translations unavailable, the pack's words show as their keys:", e);
    }
  })();
  return loading;
}

/** The frontend's language as the pack has it: "zh", "en", ... */
export function currentLocale() {
  const wanted = String(settingOf("Comfy.Locale") || globalThis.navigator?.language || FALLBACK);
  if (bundles[wanted]) return wanted;
  const base = wanted.split("-")[0];
  return bundles[base] ? base : FALLBACK;
}

function lookup(tree, key) {
  return key.split(".").reduce((node, part) => (node == null ? undefined : node[part]), tree);
}

/**
 * The message `key` ("editor.undo") in the current language with `{name}` filled from `params`.
 * A message with "one"/"other" forms is chosen by `params.count`.
 */
export function t(key, params = {}) {
  let msg = lookup(bundles[currentLocale()], key);
  if (msg == null || (typeof msg === "object" && msg.other == null)) msg = lookup(bundles[FALLBACK], key);
  if (msg && typeof msg === "object") msg = params.count === 1 && msg.one != null ? msg.one : msg.other;
  if (typeof msg !== "string") return key;
  return msg.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}
