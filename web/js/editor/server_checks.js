// Questions the editor asks the pack's server routes (nodes/routes.py): T5 token counts of the
// descriptions, and which model files the graph's loaders name that are not on disk.

const tokenCache = new Map();   // `${t5}\u0000${text}` -> count
const TOKEN_CACHE_MAX = 2000;

async function post(api, path, body, signal) {
  const res = await api.fetchApi(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `${path}: HTTP ${res.status}`);
  return data;
}

/**
 * Token counts of `texts` with the tokenizer the T5 loader `t5Name` uses (null: the host's T5
 * tokenizer). Resolves to {counts, maxLength} (cached per text), or rejects when the server cannot count
 * or `signal` aborts the request.
 */
export async function tokenCounts(api, texts, t5Name, signal) {
  const key = (t) => `${t5Name ?? ""}\u0000${t}`;
  const todo = [...new Set(texts.filter((t) => !tokenCache.has(key(t))))];
  let maxLength = tokenCounts.maxLength ?? 128;
  if (todo.length) {
    const data = await post(api, "/deig/token_counts", { texts: todo, t5_name: t5Name }, signal);
    if (tokenCache.size + todo.length > TOKEN_CACHE_MAX) tokenCache.clear();
    todo.forEach((t, i) => tokenCache.set(key(t), data.counts[i]));
    maxLength = tokenCounts.maxLength = data.max_length;
  }
  return { counts: texts.map((t) => tokenCache.get(key(t))), maxLength };
}

let lastModels = { key: null, promise: null };

/** Ask again next time (model files may have been added: the frontend's lists were refreshed). */
export function forgetMissingModels() {
  lastModels = { key: null, promise: null };
}

/** Missing model files for `choices` ([{node, title, input, value}]): [{..., folder, paths}]. */
export function missingModels(api, choices) {
  const key = JSON.stringify(choices);
  if (lastModels.key !== key) {
    const promise = choices.length ? post(api, "/deig/missing_models", { models: choices }).then((d) => d.missing)
      : Promise.resolve([]);
    promise.catch(() => { if (lastModels.promise === promise) lastModels = { key: null, promise: null }; });
    lastModels = { key, promise };
  }
  return lastModels.promise;
}
