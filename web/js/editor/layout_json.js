// Layout JSON: parsing, checking and canonical serialisation, mirroring deig_core/layout.py.
//
// Canonical form (what the widget stores and the Python node reads):
//   [{"box": [x1, y1, x2, y2], "text": "..."}, ...]   coordinates normalised 0..1, origin top-left.
// The text is written the way Python's json.dumps(..., ensure_ascii=False) writes it, so a layout
// that went through the backend's dump_layout and one written here are the same string.

export class LayoutParseError extends Error {}

const COORD_NAMES = ["x1", "y1", "x2", "y2"];

/** Smallest box side the backend accepts (deig_core.layout.MIN_BOX_SIDE), normalised. */
export const MIN_BOX_SIDE = 1e-4;

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

function parseBox(raw, where) {
  if (!Array.isArray(raw) || raw.length !== 4) {
    throw new LayoutParseError(`${where}: 'box' must be a list of four numbers [x1, y1, x2, y2], got ${describe(raw)}`);
  }
  raw.forEach((v, i) => {
    if (typeof v !== "number") throw new LayoutParseError(`${where}: ${COORD_NAMES[i]} must be a number, got ${describe(v)}`);
    if (!Number.isFinite(v)) throw new LayoutParseError(`${where}: ${COORD_NAMES[i]} must be a finite number in 0..1`);
  });
  const [x1, y1, x2, y2] = raw;
  if (x2 <= x1 || y2 <= y1) {
    throw new LayoutParseError(`${where}: box [${raw.join(", ")}] needs x2 > x1 and y2 > y1 (normalised x1, y1, x2, y2)`);
  }
  const c = raw.map((v) => Math.min(Math.max(v, 0), 1));
  if (c[2] <= c[0] || c[3] <= c[1]) {
    throw new LayoutParseError(`${where}: box [${raw.join(", ")}] lies outside the image (coordinates are normalised to 0..1)`);
  }
  if (c[2] - c[0] < MIN_BOX_SIDE || c[3] - c[1] < MIN_BOX_SIDE) {
    throw new LayoutParseError(`${where}: box [${raw.join(", ")}] has (almost) zero area inside the image; draw a larger box`);
  }
  return raw.slice();
}

/**
 * Check a list of instances. Returns [{box, text}] with the numbers exactly as given.
 * An empty description is not an error here (a box the user just drew has none yet);
 * `missingText(items)` lists those, which the backend would reject.
 */
export function parseInstances(list, where = "layout") {
  if (!Array.isArray(list)) {
    throw new LayoutParseError(`${where} must be a JSON list of {"box": [x1, y1, x2, y2], "text": "..."}`);
  }
  return list.map((item, i) => {
    const at = `${where}: instance ${i + 1}`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new LayoutParseError(`${at} must be an object with 'box' and 'text', got ${describe(item)}`);
    }
    if (!("box" in item)) throw new LayoutParseError(`${at} has no 'box'`);
    const box = parseBox(item.box, at);
    let text = "text" in item ? item.text : item.description;
    if (text === undefined || text === null) text = "";
    if (typeof text !== "string") throw new LayoutParseError(`${at}: 'text' must be a string, got ${describe(text)}`);
    return { box, text };
  });
}

/** Parse a widget value (JSON text). Empty text means an empty layout, like the backend. */
export function parseLayoutValue(value) {
  if (value === undefined || value === null) return [];
  if (typeof value !== "string") {
    if (Array.isArray(value) || typeof value === "object") return parseDecoded(value, "layout");
    throw new LayoutParseError(`layout must be JSON text, got ${typeof value}`);
  }
  if (!pyStrip(value)) return [];
  let decoded;
  try {
    decoded = JSON.parse(value);
  } catch (e) {
    throw new LayoutParseError(`layout is not valid JSON (${e.message})`);
  }
  return parseDecoded(decoded, "layout");
}

function parseDecoded(decoded, where) {
  if (decoded && typeof decoded === "object" && !Array.isArray(decoded) && "instances" in decoded) {
    decoded = decoded.instances;
  }
  return parseInstances(decoded, where);
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

// ---- DEIG-Bench ---------------------------------------------------------------------------

/** True for an object shaped like one DEIG-Bench entry (it has an "instances" list). */
const isBenchEntry = (e) => e && typeof e === "object" && !Array.isArray(e) && Array.isArray(e.instances);

/** The entries of a decoded DEIG-Bench document, or null if it is not one. */
export function benchEntries(doc) {
  let entries = doc && typeof doc === "object" && !Array.isArray(doc) && "results" in doc ? doc.results : doc;
  if (entries && typeof entries === "object" && !Array.isArray(entries)) entries = [entries];
  if (!Array.isArray(entries) || !entries.length) return null;
  return entries.every(isBenchEntry) ? entries : null;
}

/** Caption and instances of one bench entry. */
export function benchEntry(entries, index) {
  if (!Number.isInteger(index) || index < 0 || index >= entries.length) {
    throw new LayoutParseError(`bench index ${index} is out of range: the file has ${entries.length} entries (0..${entries.length - 1})`);
  }
  const entry = entries[index];
  const items = entry.instances
    .filter((inst) => inst && typeof inst === "object")
    .map((inst) => ({ box: inst.bbox ?? inst.box, text: inst.description ?? inst.text }));
  return { caption: String(entry.caption ?? ""), items: parseInstances(items, `bench entry ${index}`) };
}

/**
 * Parse text that the import dialog received: a layout (list or {"instances": [...]}) or a
 * DEIG-Bench document/entry. Returns {kind: "layout", items} or {kind: "bench", entries}.
 */
export function parseImportText(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new LayoutParseError(`not valid JSON (${e.message})`);
  }
  const isBenchDoc = doc && typeof doc === "object" && !Array.isArray(doc) && "results" in doc;
  if (isBenchDoc || (Array.isArray(doc) && doc.length && doc.every(isBenchEntry)) ||
      (isBenchEntry(doc) && "caption" in doc)) {
    const entries = benchEntries(doc);
    if (!entries) throw new LayoutParseError("bench JSON must be {\"results\": [...]} with at least one entry that has 'instances'");
    return { kind: "bench", entries };
  }
  return { kind: "layout", items: parseDecoded(doc, "layout") };
}
