"""The box editor's readers and the backend's make the same decisions on the same input.

``web/js/editor/layout_json.js`` runs under Node (``editor_modules.mjs``) next to ``deig_core.layout``
(the widget value) and ``deig_core.layout_files`` (layout documents: editor JSON, DEIG-Bench,
MIG-Bench, JSON Lines), on well-formed layouts, hand-written malformed ones and a few hundred
documents with one random field broken. Same accept/reject decision, and for a rejection the same
place (entry, line, instance, coordinate); for an accepted document the same format, entry ids,
captions and canonical layouts. Also: the editor's canonical JSON is the backend's byte for byte,
the instance colours are the preview's, and the editor's undo model holds.
"""
import copy
import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from comfyui_deig.deig_core.layout import EDGE_TOLERANCE, LayoutError, dump_layout, parse_instances, parse_layout
from comfyui_deig.deig_core.layout_files import parse_layout_document

HERE = Path(__file__).parent
MODULES = HERE / "editor_modules.mjs"
FIXTURES = HERE.parent / "fixtures"


def _random_layouts(n: int, seed: int = 1234) -> list:
    """Layouts with the awkward cases: 6-decimal ties (pixel edges k/512), tiny values, edges 0/1,
    floats with 17 digits, coordinates within the edge tolerance, and texts with quotes, backslashes,
    control characters and non-ASCII."""
    rng = random.Random(seed)
    words = ["a red car", 'a "quoted" dog', "back\\slash", "tab\there", "line\nbreak", "ünïcödé façade",
             "emoji 🐈‍⬛ cat", "中文描述", "ctrl \x01\x1f", "  padded text  ", "\u2028sep\u2029"]

    def coord_pair():
        kind = rng.random()
        if kind < 0.3:      # pixel edges at 512 px, many exact ties at the 7th decimal
            a, b = sorted(rng.sample(range(0, 513), 2))
            return a / 512, b / 512
        if kind < 0.4:
            return 0.0, rng.choice([1.0, 2e-4, 0.5])
        if kind < 0.45:     # past an edge, within the tolerance: clamped
            return -rng.uniform(0, EDGE_TOLERANCE), 1 + rng.uniform(0, EDGE_TOLERANCE)
        while True:
            a, b = sorted(rng.random() for _ in range(2))
            if round(b, 6) > round(a, 6):
                return a, b

    layouts = []
    for _ in range(n):
        items = []
        for _ in range(rng.randint(0, 6)):
            x1, x2 = coord_pair()
            y1, y2 = coord_pair()
            items.append({"box": [x1, y1, x2, y2], "text": rng.choice(words)})
        layouts.append(items)
    return layouts


# Widget values (what the editor's JSON view and the DEIG Instance Layout node read).
VALUES = [
    "[{", "{}", "42", '"text"', "[1]", "null", '[{"text": "no box"}]', '[{"box": [0, 0, 1], "text": "a"}]',
    '[{"box": [0, 0, "1", 1], "text": "a"}]', '[{"box": [0, 0, true, 1], "text": "a"}]',
    '[{"box": [0.5, 0, 0.5, 1], "text": "a"}]', '[{"box": [0, 0.6, 1, 0.2], "text": "a"}]',
    '[{"box": [1.5, 1.5, 2, 2], "text": "a"}]', '[{"box": [1.01, 0.2, 1.04, 0.9], "text": "outside, within tolerance"}]',
    '[{"box": [0.5, 0.5, 1.4, 1.2], "text": "far outside"}]', '[{"box": [0.5, 0.5, 1e29, 0.9], "text": "huge"}]',
    '[{"box": [0.5, 0.5, 1e400, 0.9], "text": "overflow"}]', '[{"box": [0.1, 0.2, 0.5, NaN], "text": "nan"}]',
    '[{"box": [-0.0500001, 0, 1, 1], "text": "just past"}]', '[{"box": [-0.05, 0, 1.05, 1], "text": "at the tolerance"}]',
    '[{"box": [0.5, 0.5, 0.50005, 0.9], "text": "too thin"}]', '[{"box": [-0.04, 0.5, 0.00005, 0.9], "text": "thin after clamp"}]',
    '[{"box": [0, 0, 1, 1], "text": 5}]', '[{"box": [0, 0, 1, 1], "text": null}]', '[{"box": [0, 0, 1, 1], "text": "  "}]',
    '[{"box": [0, 0, 1, 1]}]', '[{"box": [0, 0, 1, 1], "text": "ok"}, {"box": [0.2, 0.2, 0.1, 0.3], "text": "second"}]',
    '[{"box": [-0.001, 0, 1.0004, 1], "text": "slightly out"}]', '{"instances": [{"box": [0, 0, 1, 1], "text": "ok"}]}',
    '{"instances": 3}', '[{"box": [0, 0, 1, 1], "description": "old key"}]', '[{"bbox": [0, 0, 1, 1], "text": "bench key"}]',
    '[{"bbox": [0, 0, 1, 1], "label": "mig key"}]', '[{"box": [0, 0, 1, 1], "bbox": "ignored", "text": "box wins"}]',
    '[{"box": [0, 0, 1, 1], "text": "text wins", "description": 5}]', "", "   ", "[]", "\u3000",
]
# Widget values the backend refuses for an empty description, which the editor shows as a missing text.
EMPTY_TEXT = {'[{"box": [0, 0, 1, 1], "text": null}]', '[{"box": [0, 0, 1, 1], "text": "  "}]', '[{"box": [0, 0, 1, 1]}]'}

MIG = {"0": {"caption": "a blue fork and a green carrot", "image_id": "313783",
             "segment": [{"bbox": [0.7, 0.0, 1.0, 0.56], "label": "a blue fork"},
                         {"bbox": [0.0, 0.07, 0.13, 0.41], "label": "a green carrot"}]},
       "7": {"caption": "a red car", "image_id": "1", "segment": [{"bbox": [0.1, 0.1, 0.5, 0.5], "label": "a red car"}]}}
EDITOR = [{"box": [0.1, 0.2, 0.3, 0.4], "text": "a cat"}, {"box": [0.5, 0.5, 1.0, 1.0], "text": "a dog"}]


def _documents() -> list[str]:
    """Well-formed layout documents of every format."""
    bench = json.loads((FIXTURES / "deig_bench_sample.json").read_text())
    jsonl = "\n".join([json.dumps({"id": "a", "caption": "x", "layout": json.dumps(EDITOR)}), "",
                       json.dumps({"id": "b", **MIG["0"]}), json.dumps(EDITOR), json.dumps(bench["results"][1])])
    return [json.dumps(bench), json.dumps(bench["results"]), json.dumps(bench["results"][0]), json.dumps(MIG),
            json.dumps(EDITOR), json.dumps({"caption": "pets", "instances": EDITOR}), jsonl,
            json.dumps({"layout": EDITOR}), "\r\n".join(json.dumps(e) for e in bench["results"])]


# Hand-written edge cases, most of them malformed.
EDGE_DOCUMENTS = [
    "", "{not json", "[", "{}", "[]", '{"results": []}', '{"results": {}}', '{"results": [1]}',
    '{"results": [{"instances": [{"bbox": [0.5, 0.5, 1.4, 1.2], "description": "far outside"}]}]}',
    '{"results": [{"image_id": 1, "instances": []}, {"image_id": 1, "instances": []}]}',
    '{"0": {"segment": [{"bbox": [0.5, 0.1, 0.2, 0.9], "label": "a"}]}}', '{"0": {"segment": 5}}',
    '{"0": {"segment": []}, "1": {"caption": "no segment"}}', '{"a": 1}\n{"b": 2}', '[]\n[{"box": 1}]',
    '{"layout": "[{"}\n[]', '{"layout": 5}', '{"layout": null}', '{"layout": " "}', '{"layout": "NaN"}',
    '{"caption": null, "layout": []}', '[{"box": [0, 0, 1, Infinity], "text": "a"}]\n[]', '{"id": "a", "layout": []}\n{"id": "a", "layout": []}',
    '[{"caption": "c", "instances": []}, {"caption": "d"}]', '{"caption": "c", "instances": [{"bbox": [0, 0, 1, 1]}]}',
    '[{"box": [0, 0, 1, 1], "text": ""}]', "\u2028\n\u2029",
]

NASTY = [None, True, "0.5", [], {}, -1, 2, 1.04, 1.06, -0.04, -0.06, 1e29, 0, 1, 0.5, "", "  ", [0, 0, 1],
         [0.2, 0.2, 0.1, 0.3], [0.5, 0.5, 1.4, 1.2], "a description"]
SCALARS = [None, True, "", "x", -1, 2, 1.04, 0, "7"]   # for ids and captions (containers print differently)
RENAMES = {"box": "bbox", "bbox": "box", "text": "label", "description": "text", "label": "description",
           "instances": "segment", "segment": "instances", "results": "entries", "image_id": "id"}


def _mutate(value, rng: random.Random):
    """`value` with one randomly chosen field replaced, deleted or renamed."""
    value = copy.deepcopy(value)
    spots = []

    def walk(node):
        if isinstance(node, dict):
            spots.extend((node, k) for k in node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            spots.extend((node, i) for i in range(len(node)))
            for v in node:
                walk(v)
    walk(value)
    if not spots:
        return rng.choice(NASTY)
    parent, key = rng.choice(spots)
    action = rng.random()
    if action < 0.15:
        del parent[key]
    elif action < 0.25 and isinstance(parent, dict) and key in RENAMES:
        parent[RENAMES[key]] = parent.pop(key)
    elif isinstance(parent, dict) and key in ("image_id", "id", "caption"):
        parent[key] = rng.choice(SCALARS)
    else:
        parent[key] = copy.deepcopy(rng.choice(NASTY))
    return value


def _mutated_documents(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    bench = json.loads((FIXTURES / "deig_bench_sample.json").read_text())
    bench["results"] = [{k: e[k] for k in ("image_id", "caption", "instances")} for e in bench["results"]]
    for e in bench["results"]:
        e["instances"] = [{k: i[k] for k in ("bbox", "description")} for i in e["instances"]]
    bases = [bench, bench["results"], MIG, EDITOR, {"caption": "pets", "instances": EDITOR}, {"layout": EDITOR}]
    out = []
    for k in range(n):
        doc = _mutate(rng.choice(bases), rng)
        if k % 4 == 3 and isinstance(doc, list) and doc:   # as JSON Lines, one entry per line
            out.append("\n".join(json.dumps(e) for e in doc))
        else:
            out.append(json.dumps(doc))
    return out


def _place(message: str) -> list:
    """Where an error points: entries, lines, instances and the first coordinate named (the JSON
    parsers' own words after "not valid JSON" differ and are left out)."""
    message = re.sub(r"not valid JSON \(.*", "not valid JSON", message, flags=re.S)
    return re.findall(r"entry '[^']*'|entry \d+|line \d+|instance \d+", message) + re.findall(r"\b[xy][12]\b", message)[:1]


def _py_value(text: str):
    try:
        return {"ok": True, "value": dump_layout(parse_layout(text))}
    except LayoutError as e:
        return {"ok": False, "error": str(e)}


def _py_document(text: str):
    try:
        doc = parse_layout_document(text)
    except LayoutError as e:
        return {"ok": False, "error": str(e)}
    return {"ok": True, "format": doc.format,
            "entries": [{"id": e.entry_id, "caption": e.caption, "value": dump_layout(e.instances)} for e in doc.entries]}


def _same_decision(py: dict, js: dict) -> bool:
    if py["ok"] != js["ok"]:
        return False
    if not py["ok"]:
        return not js["error"].startswith("UNEXPECTED") and _place(py["error"]) == _place(js["error"])
    return all(py[k] == js[k] for k in py if k != "ok")


@pytest.fixture(scope="module")
def editor_run(tmp_path_factory):
    """The editor's modules run once under Node on every input of this file."""
    assert shutil.which("node"), "node is not on PATH (make setup installs it; the editor's modules run under it)"
    documents = _documents() + EDGE_DOCUMENTS + _mutated_documents(400)
    data = {"layouts": _random_layouts(300), "values": VALUES, "documents": documents}
    tmp = tmp_path_factory.mktemp("editor")
    src, dst = tmp / "in.json", tmp / "out.json"
    src.write_text(json.dumps(data))
    proc = subprocess.run(["node", str(MODULES), str(src), str(dst)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return data, json.loads(dst.read_text())


def test_editor_state_checks_pass(editor_run):
    assert editor_run[1]["failures"] == []


def test_canonical_json_is_the_backends_byte_for_byte(editor_run):
    """The widget's canonical JSON is the backend's dump of the same layout; a layout with an empty
    description is serialised too (the editor warns) and the backend refuses it."""
    data, out = editor_run
    for items, js in zip(data["layouts"], out["serialized"]):
        if all(it["text"].strip() for it in items):
            assert js == dump_layout(parse_instances(items)), items
            assert js == dump_layout(parse_layout(js))
        else:
            with pytest.raises(LayoutError, match="empty description"):
                parse_layout(js)
    assert out["reparsed"] == out["serialized"]          # idempotent: parse + serialise changes nothing


def test_widget_values_get_the_same_decision(editor_run):
    """Same accept/reject and the same place named; the backend's "empty description" rejection is
    the editor's "missing text" warning (a freshly drawn box has no description yet)."""
    _, out = editor_run
    for text, js in zip(VALUES, out["values"]):
        py = _py_value(text)
        if text in EMPTY_TEXT:
            assert not py["ok"] and "empty description" in py["error"] and js["ok"] and js["missingText"] == [1], (text, js)
        else:
            assert _same_decision(py, {k: v for k, v in js.items() if k != "missingText"}), (text, py, js)


def test_a_box_far_outside_is_refused_in_the_same_words(editor_run):
    """Issue #23: one rule, said the same way in the editor and the backend."""
    _, out = editor_run
    for text in ('[{"box": [0.5, 0.5, 1.4, 1.2], "text": "far outside"}]',
                 '[{"box": [0.5, 0.5, 1e29, 0.9], "text": "huge"}]'):
        py, js = _py_value(text), out["values"][VALUES.index(text)]
        assert not py["ok"] and "x2 = " in py["error"] and "is outside the image" in py["error"]
        assert js["error"] == py["error"]


def test_layout_documents_get_the_same_decision(editor_run):
    """Every format, well-formed, hand-broken and randomly broken: same decision, and for an accepted
    document the same format, ids, captions and layouts."""
    data, out = editor_run
    assert len(out["documents"]) == len(data["documents"])
    decisions = {True: 0, False: 0}
    for text, js in zip(data["documents"], out["documents"]):
        py = _py_document(text)
        assert _same_decision(py, js), (text, py, js)
        decisions[py["ok"]] += 1
    assert all(_py_document(t)["ok"] for t in _documents())
    assert decisions[True] >= 50 and decisions[False] >= 150, decisions   # both kinds really exercised


def test_the_editor_states_the_backends_limits(editor_run):
    """The 30-instance note, the edge tolerance and the smallest box side: one number in both."""
    from comfyui_deig.deig_core import layout

    assert editor_run[1]["constants"] == {name: getattr(layout, name)
                                          for name in ("TRAINED_MAX_INSTANCES", "EDGE_TOLERANCE", "MIN_BOX_SIDE")}


def test_instance_colours_are_the_previews(editor_run):
    from comfyui_deig.deig_core.preview import instance_color

    colors = editor_run[1]["colors"]
    assert [tuple(c) for c in colors] == [instance_color(i) for i in range(len(colors))]
