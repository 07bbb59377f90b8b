// Layout JSON: parsing, checking and canonical serialisation, mirroring deig_core/layout.py (the
// widget value) and deig_core/layout_files.py (layout documents: editor JSON, DEIG-Bench, MIG-Bench,
// JSON Lines). tests/unit/test_layout_parity.py runs both readers on the same well-formed and
// malformed input and asks for the same decisions.
//
// Canonical form (what the widget stores and the Python node reads):
//   [{"box": [x1, y1, x2, y2], "text": "..."}, ...]   coordinates normalised 0..1, origin top-left.
// The text is written the way Python's json.dumps(..., ensure_ascii=False) writes it, so a layout
// that went through the backend's dump_layout and one written here are the same string.

export class LayoutParseError extends Error {}

const COORD_NAMES = ["x1", "y1", "x2", "y2"];

/** Smallest box side the backend accepts (deig_core.layout.MIN_BOX_SIDE), normalised. */
export const MIN_BOX_SIDE = 1e-4;
/** How far past an image edge a coordinate may lie and still be clamped (deig_core.layout.EDGE_TOLERANCE). */
export const EDGE_TOLERANCE = 0.05;
const BOX_KEYS = ["box", "bbox"];                      // the first present one is the box
const TEXT_KEYS = ["text", "description", "label"];    // the first present one is the description

/** The error for coordinate `name` (already formatted `value`) beyond the tolerance, in the backend's words. */
export function outsideMessage(where, name, value) {
  return `${where}: ${name} = ${value} is outside the image: coordinates must be between 0 and 1 `
    + `(normalised; up to ${EDGE_TOLERANCE} past an edge is clamped)`;
}

/**
 * Round to 6 decimals exactly like Python's round(v, 6): on the exact binary value, ties to even.
 * (toFixed rounds ties up, and ties are common here: a pixel edge at k/512 with k = 4 mod 8 lies
 * exactly halfway between two 6-decimal numbers.)
 */
export function round6(v) {
  if (!Number.isFinite(v) || Math.abs(v) >= 1e15) return v;
  const [ip, fp] = Math.abs(v).toFixed(60).split(".");   // enough digits to tell a tie from a near-tie
  const rest = fp.slice(6);
  let n = BigInt(ip + fp.slice(0, 6));
  const up = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || n % 2n === 1n));
  if (up) n += 1n;
  const r = Number(n) / 1e6;
  return v < 0 && r !== 0 ? -r : r;
}

/** A float the way Python's repr writes it (1.0, 0.25, 5e-05). */
export function pyFloat(v) {
  if (Number.isInteger(v)) return v.toFixed(1);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    // Python: exponent with at least two digits ("5e-05"); JS: "5e-5".
    return v.toExponential().replace(/e([+-])(\d)$/, (_, sign, digit) => `e${sign}0${digit}`);
  }
  return String(v);
}

// Python's str.strip() whitespace (str.isspace), which differs from JS trim() in a few code points.
const PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

/** The description as the backend reads it (Python's str.strip()). */
export function pyStrip(text) {
  return text.replace(PY_STRIP, "");
}

/** A coordinate clamped to the normalised range 0..1. */
export const clamp01 = (v) => Math.min(Math.max(v, 0), 1);

function describe(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : JSON.stringify(v);
}

/** Python's str() of a JSON scalar (an id or a caption), as deig_core.layout_files writes it. */
function pyStr(v) {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : pyFloat(v);
  return JSON.stringify(v);
}

/** A JSON number the way Python's f-string writes it (integers without ".0": JSON cannot tell 2 from 2.0). */
const pyNum = (v) => (Number.isInteger(v) && Math.abs(v) < 1e16 ? String(v) : pyFloat(v));

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const firstKey = (item, keys) => keys.find((k) => Object.hasOwn(item, k));

function parseBox(raw, where) {
  if (!Array.isArray(raw) || raw.length !== 4) {
    throw new LayoutParseError(`${where}: 'box' must be a list of four numbers [x1, y1, x2, y2], got ${describe(raw)}`);
  }
  raw.forEach((v, i) => {
    const name = COORD_NAMES[i];
    if (typeof v !== "number") throw new LayoutParseError(`${where}: ${name} must be a number, got ${describe(v)}`);
    if (!Number.isFinite(v)) throw new LayoutParseError(`${where}: ${name} must be a finite number in 0..1`);
    if (!(v >= -EDGE_TOLERANCE && v <= 1 + EDGE_TOLERANCE)) throw new LayoutParseError(outsideMessage(where, name, pyNum(v)));
  });
  const [x1, y1, x2, y2] = raw;
  if (x2 <= x1 || y2 <= y1) {
    throw new LayoutParseError(`${where}: box [${raw.join(", ")}] needs x2 > x1 and y2 > y1 (normalised x1, y1, x2, y2)`);
  }
  const c = raw.map(clamp01);
  if (c[2] <= c[0] || c[3] <= c[1]) {
    throw new LayoutParseError(`${where}: box [${raw.join(", ")}] lies outside the image (coordinates are normalised to 0..1)`);
  }
  if (c[2] - c[0] < MIN_BOX_SIDE || c[3] - c[1] < MIN_BOX_SIDE) {
    throw new LayoutParseError(`${where}: box [${raw.join(", ")}] has (almost) zero area inside the image; draw a larger box`);
  }
  return raw.slice();
}

/**
 * Check a list of instances (the rules of deig_core.layout.parse_instances). Returns [{box, text}]
 * with the numbers exactly as given. With `requireText` false (the widget: a box the user just drew
 * has no description yet) an empty description is not an error; `missingText(items)` lists those,
 * which the backend would reject.
 */
export function parseInstances(list, where = "layout", { requireText = false } = {}) {
  if (!Array.isArray(list)) {
    throw new LayoutParseError(`${where} must be a JSON list of {'box': [x1, y1, x2, y2], 'text': ...}`);
  }
  return list.map((item, i) => {
    const at = `${where}: instance ${i + 1}`;
    if (!isObject(item)) {
      throw new LayoutParseError(`${at} must be an object with 'box' and 'text', got ${describe(item)}`);
    }
    const boxKey = firstKey(item, BOX_KEYS);
    if (boxKey === undefined) throw new LayoutParseError(`${at} has no 'box'`);
    const box = parseBox(item[boxKey], at);
    const textKey = firstKey(item, TEXT_KEYS);
    let text = textKey === undefined ? null : item[textKey];
    if (text !== null && typeof text !== "string") {
      throw new LayoutParseError(`${at}: '${textKey}' must be a string, got ${describe(text)}`);
    }
    text ??= "";
    if (requireText && !pyStrip(text)) {
      throw new LayoutParseError(`${at} has an empty description: write what this box should contain`);
    }
    return { box, text };
  });
}

/** Parse a widget value (JSON text). Empty text means an empty layout, like the backend. */
export function parseLayoutValue(value, where = "layout", options = {}) {
  if (typeof value !== "string") return parseDecoded(value, where, options);   // already decoded
  if (!pyStrip(value)) return [];
  let decoded;
  try {
    decoded = JSON.parse(value);
  } catch (e) {
    throw new LayoutParseError(`${where} is not valid JSON (${e.message})`);
  }
  return parseDecoded(decoded, where, options);
}

function parseDecoded(decoded, where, options) {
  if (isObject(decoded) && Object.hasOwn(decoded, "instances")) decoded = decoded.instances;
  return parseInstances(decoded, where, options);
}

/** 1-based numbers of instances without a description. */
export function missingText(items) {
  const out = [];
  items.forEach((it, i) => { if (!pyStrip(it.text)) out.push(i + 1); });
  return out;
}

/**
 * Canonical JSON text of [{box, text}]: what deig_core.layout.dump_layout(parse_layout(...)) writes
 * for the same layout (coordinates clamped to 0..1 and rounded to 6 decimals, text stripped,
 * Python's json.dumps spacing), so the widget value and the backend's canonical form are equal.
 */
export function serializeLayout(items) {
  const parts = items.map((it) => {
    const box = it.box.map((v) => pyFloat(round6(clamp01(v)))).join(", ");
    return `{"box": [${box}], "text": ${JSON.stringify(pyStrip(it.text))}}`;
  });
  return `[${parts.join(", ")}]`;
}

// ---- layout documents (deig_core/layout_files.py) --------------------------------------------

/** The document formats, by the backend's names (deig_core.layout_files.FORMATS). */
export const FORMATS = ["editor-json", "deig-bench", "instdiff-bench", "mig-bench", "jsonl"];

const entryOf = (entryId, caption, items) => ({ entryId, caption, items });
const entryInstances = (list, where) => parseInstances(list, where, { requireText: true });

function recordEntry(entry, key, entryId, where) {
  if (!isObject(entry) || !Array.isArray(entry[key])) throw new LayoutParseError(`${where} has no '${key}' list`);
  return entryOf(entryId, pyStr(Object.hasOwn(entry, "caption") ? entry.caption : ""), entryInstances(entry[key], where));
}

const isDeigRecord = (v) => isObject(v) && Array.isArray(v.instances);

function singleEntry(value, entryId, where) {
  if (Array.isArray(value)) return entryOf(entryId, "", entryInstances(value, where));
  if (isObject(value)) {
    const idKey = firstKey(value, ["id", "entry_id"]);
    if (idKey !== undefined) entryId = pyStr(value[idKey]);
    if (Object.hasOwn(value, "segment")) return recordEntry(value, "segment", entryId, where);
    if (Object.hasOwn(value, "instances")) return recordEntry(value, "instances", entryId, where);
    if (Object.hasOwn(value, "layout")) {
      const caption = pyStr(Object.hasOwn(value, "caption") ? value.caption : "");
      return entryOf(entryId, caption, parseLayoutValue(value.layout, `${where}: 'layout'`, { requireText: true }));
    }
  }
  throw new LayoutParseError(`${where} is not a layout: expected a list of boxes or an object with `
    + "'instances', 'segment' or 'layout'");
}

function unique(entries, where) {
  const seen = new Set();
  for (const e of entries) {
    if (seen.has(e.entryId)) throw new LayoutParseError(`${where}: entry id '${e.entryId}' appears twice; ids must be unique`);
    seen.add(e.entryId);
  }
  if (!entries.length) throw new LayoutParseError(`${where} holds no layouts`);
  return entries;
}

// Python's str.splitlines() line breaks (\r\n counts as one).
const PY_LINES = /\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/;

/**
 * Parse a layout document's text the way deig_core.layout_files.parse_layout_document does:
 * {format, entries: [{entryId, caption, items}]}. (One known difference: JavaScript lists an object's
 * integer-like keys in ascending order, so a MIG-Bench file whose ids are not in ascending order
 * lists its entries in another order than the backend.)
 */
export function parseLayoutDocument(text, where = "layout file") {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const lines = text.split(PY_LINES).map((line, i) => [i + 1, line]).filter(([, line]) => pyStrip(line));
    if (lines.length < 2) throw new LayoutParseError(`${where} is not valid JSON (${e.message})`);
    return { format: "jsonl", entries: unique(lines.map(([n, line]) => jsonlLine(line, n, where)), where) };
  }
  const records = isObject(value) ? value.results : value;
  if ((isObject(value) && Array.isArray(records)) || (Array.isArray(records) && records.length && records.every(isDeigRecord))) {
    const entries = records.map((e, i) => recordEntry(e, "instances",
      isObject(e) && Object.hasOwn(e, "image_id") ? pyStr(e.image_id) : String(i), `${where}: entry ${i}`));
    const format = isObject(value) && value.benchmark === "instdiff-bench" ? "instdiff-bench" : "deig-bench";
    return { format, entries: unique(entries, where) };
  }
  if (isObject(value) && Object.keys(value).length && Object.values(value).every((v) => isObject(v) && Object.hasOwn(v, "segment"))) {
    const entries = Object.entries(value).map(([k, e]) => recordEntry(e, "segment", k, `${where}: entry '${k}'`));
    return { format: "mig-bench", entries: unique(entries, where) };
  }
  return { format: "editor-json", entries: [singleEntry(value, "0", where)] };
}

function jsonlLine(line, lineno, where) {
  let value;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new LayoutParseError(`${where}: line ${lineno} is not valid JSON (${e.message})`);
  }
  return singleEntry(value, String(lineno - 1), `${where}: line ${lineno}`);
}

/** Entry `index` of a parsed document (deig_core.layout_files.entry_at). */
export function entryAt(doc, index) {
  const n = doc.entries.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new LayoutParseError(`index ${index} is out of range: the file has ${n} entries (0..${n - 1})`);
  }
  return doc.entries[index];
}
