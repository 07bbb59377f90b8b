// The box editor's pure modules (layout JSON, state/undo, colours) run under Node, no browser
// (tests/unit/test_layout_parity.py). argv: INPUT_JSON OUTPUT_JSON. Input: {"layouts": [[{box, text}]...],
// "values": [widget value text...], "documents": [layout file text...]}. Output: serialisations and
// parse results for Python to compare with deig_core.layout and deig_core.layout_files, colours, and
// `failures` from the state-machine checks below.
import { readFile, writeFile } from 'node:fs/promises';
import { instanceRGB } from '../../web/js/editor/colors.js';
import { TRAINED_MAX_INSTANCES } from '../../web/js/editor/status_view.js';
import {
  EDGE_TOLERANCE, MIN_BOX_SIDE, LayoutParseError, missingText, parseLayoutDocument, parseLayoutValue, serializeLayout,
} from '../../web/js/editor/layout_json.js';
import { LayoutState } from '../../web/js/editor/state.js';

const [input, output] = process.argv.slice(2);
const data = JSON.parse(await readFile(input, 'utf8'));
const failures = [];
const check = (cond, what, detail) => { if (!cond) failures.push({ what, detail }); };
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ---- canonical serialisation and parsing ----
const serialized = data.layouts.map((items) => serializeLayout(items));
const reparsed = serialized.map((s) => serializeLayout(parseLayoutValue(s)));
const failed = (e) => ({ ok: false, error: e instanceof LayoutParseError ? e.message : `UNEXPECTED ${e}` });
const values = data.values.map((s) => {
  try {
    const items = parseLayoutValue(s);
    return { ok: true, value: serializeLayout(items), missingText: missingText(items) };
  } catch (e) {
    return failed(e);
  }
});
const documents = data.documents.map((text) => {
  try {
    const { format, entries } = parseLayoutDocument(text);
    return { ok: true, format, entries: entries.map((e) => ({ id: e.entryId, caption: e.caption, value: serializeLayout(e.items) })) };
  } catch (e) {
    return failed(e);
  }
});

// ---- state: value policy, undo/redo, coalescing, gestures ----
{
  const st = new LayoutState();
  const raw = '{"instances": [{"box": [0.1, 0.2, 0.3, 0.40000001], "description": "a cat"}]}';
  st.load(raw);
  check(st.value === raw, 'loaded value kept byte for byte', st.value);
  check(!st.canUndo, 'load starts a fresh history');
  st.setText(0, 'a black cat');
  check(st.value === '[{"box": [0.1, 0.2, 0.3, 0.4], "text": "a black cat"}]', 'edit writes canonical JSON', st.value);
  st.undo();
  check(st.value === raw, 'undo back to the loaded state gives the loaded text again', st.value);
  st.redo();
  check(JSON.parse(st.value)[0].text === 'a black cat', 'redo', st.value);

  const s2 = new LayoutState();
  s2.add([0.1, 0.1, 0.2, 0.2]);
  s2.add([0.3, 0.3, 0.5, 0.5]);
  for (const ch of 'hello') s2.setText(1, (s2.items[1].text || '') + ch);
  check(s2.items[1].text === 'hello', 'typing');
  s2.undo();
  check(s2.items.length === 2 && s2.items[1].text === '', 'typing burst is one undo step', s2.items);
  s2.undo();
  check(s2.items.length === 1, 'undo add', s2.items);
  s2.redo(); s2.redo();
  check(s2.items[1].text === 'hello', 'redo twice', s2.items);
  s2.reorder(1, -1);
  check(s2.items[0].text === 'hello' && s2.selected === 0, 'reorder moves selection with the item', [s2.items, s2.selected]);
  s2.beginGesture();
  for (let k = 1; k <= 10; k++) s2.setBox(0, [0.3 + k / 100, 0.3, 0.5 + k / 100, 0.5]);
  s2.endGesture();
  s2.undo();
  check(eq(s2.items[0].box, [0.3, 0.3, 0.5, 0.5]), 'a drag is one undo step', s2.items[0].box);
  s2.beginGesture();
  s2.setBox(0, [0, 0, 1, 1]);
  s2.cancelGesture();
  check(eq(s2.items[0].box, [0.3, 0.3, 0.5, 0.5]), 'cancelled drag restores the box', s2.items[0].box);
  s2.remove(0);
  check(s2.items.length === 1 && s2.selected === 0, 'remove keeps a valid selection', [s2.items.length, s2.selected]);
  s2.add([0.6, 0.6, 0.7, 0.7]);
  s2.undo();
  check(s2.canRedo, 'redo available after undo');
  s2.add([0.1, 0.6, 0.2, 0.7]);
  check(!s2.canRedo, 'a new edit clears redo');

  const s3 = new LayoutState();
  s3.load('[{"box": [0.5, 0.1, 0.2, 0.4], "text": "x"}]');
  check(s3.error && s3.error.includes('x2 > x1'), 'malformed value reported', s3.error);
  check(s3.value === '[{"box": [0.5, 0.1, 0.2, 0.4], "text": "x"}]', 'malformed value kept', s3.value);
  check(s3.edit(() => {}) === false && s3.items.length === 0, 'no edits on a malformed value');
  s3.reset();
  check(s3.value === '[]' && !s3.error, 'reset', [s3.value, s3.error]);
  s3.undo();
  check(s3.error && s3.value.startsWith('[{"box": [0.5'), 'reset is undoable', s3.value);

  const s4 = new LayoutState();
  let events = 0;
  s4.addEventListener('change', () => { events += 1; });
  s4.load('[]');
  check(events === 0, 'loading the current value again is a no-op (Vue widget sync)', events);
}

const colors = Array.from({ length: 40 }, (_, i) => instanceRGB(i));
const constants = { TRAINED_MAX_INSTANCES, EDGE_TOLERANCE, MIN_BOX_SIDE };
await writeFile(output, JSON.stringify({ serialized, reparsed, values, documents, colors, constants, failures }));
