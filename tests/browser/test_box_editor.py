"""The box editor on DEIG_InstanceLayout, driven with real mouse and keyboard input in headless
Chromium against the real ComfyUI server, on both frontends (the pinned 1.32.9 and the newest 1.58.1,
see conftest.py) and in both node renderers (classic litegraph canvas and the Vue "Nodes 2.0" one).

One browser script per renderer (``box_editor_flow.mjs``) performs the whole user story and reports
what it saw; the assertions are here.
"""
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from devkit import paths
from devkit.browser import unexpected_errors

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
FLOW = HERE / "box_editor_flow.mjs"
CONTEXT = HERE / "box_editor_context.mjs"
UNITS = HERE / "box_editor_units.mjs"
ROUNDTRIP = HERE / "box_editor_roundtrip.mjs"
BENCH = Path(__file__).resolve().parents[3] / "shared" / "bench" / "deig_bench_coco.json"
WEB_JS = paths.REPO_ROOT / "web" / "js"
EXPECTED_MODULES = {p.relative_to(WEB_JS).as_posix() for p in WEB_JS.rglob("*.js")}  # every file the frontend serves
TOL = 1e-3  # drawn coordinates come from screen pixels; what is stored must then round-trip exactly


def _pack_url(server) -> str:
    return f"/extensions/{server.pack_folder}/"


def _pack_errors(result: dict, server) -> list:
    """Console errors, uncaught page errors, failed requests and deprecation warnings that come from
    this pack's files (its URL in the source or stack, or the editor's log tag); then every other
    console error the stock frontend does not log anyway (devkit.browser.unexpected_errors).
    Not counted: the frontend's own lookups of node names on the (unreachable) Comfy registry."""
    pack_url = _pack_url(server)

    def mine(text: str) -> bool:
        return pack_url in (text or "") or "[DEIG box editor]" in (text or "")

    pack = ([e for e in result["consoleErrors"] if mine(e.get("url")) or mine(e.get("text"))]
            + [e for e in result["pageErrors"] if mine(e)]
            + [r for r in result["requestFailures"] if mine(r.get("url"))]
            + [d for d in result.get("deprecations", []) if mine(d.get("stack"))])
    return pack + [e for e in unexpected_errors(result, server.base_url, server.frontend) if e not in pack]


def _boxes(items):
    return [it["box"] for it in items]


def _close(a, b, tol=TOL):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def _parse_py(value: str):
    """The backend's parser on the widget value (the same module the node uses)."""
    from comfyui_deig.deig_core.layout import dump_layout, parse_layout

    return dump_layout(parse_layout(value))


RENDERERS = ["classic", "vue"]


@pytest.mark.parametrize("mode", RENDERERS)
def test_box_editor_user_story(comfy_server, browser, artifacts_dir, mode):
    pack_url = _pack_url(comfy_server)
    r = browser(FLOW, comfy_server.base_url, artifacts_dir, timeout=300, args=(mode, pack_url))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")

    # The pack loaded cleanly: extension registered, each module fetched once, no errors or
    # deprecation warnings from it, no console error the stock frontend would not log anyway.
    assert r["load"]["registered"]
    mods = [p.split(pack_url, 1)[1] for p in r["load"]["packModules"]]
    assert set(mods) == EXPECTED_MODULES and len(mods) == len(set(mods)), mods
    assert _pack_errors(r, comfy_server) == []

    # The editor replaced the textarea in place, in the renderer asked for.
    assert r["vueNodesSetting"] is (mode == "vue")
    assert r["widgetNames"] == ["layout", "width", "height"]
    assert r["widgetType"] == "deig_box_editor"
    assert r["otherNode"] == {"type": "customtext", "tag": "TEXTAREA", "editor": False}
    assert r["domWidgetParent"] == ({"inDomWidgetOverlay": False, "inVueNode": True} if mode == "vue"
                                    else {"inDomWidgetOverlay": True, "inVueNode": False})

    assert r["posAfterDrags"] == r["posBefore"]
    s = r["steps"]
    assert s["focusAfterDraw"] == "deig-be-text"           # drawing a box puts the caret in its description
    assert [it["text"] for it in s["drawn"]] == ["a red sports car", "a small brown dog"]
    assert _close(s["drawn"][0]["box"], [0.08, 0.10, 0.48, 0.62])
    assert _close(s["drawn"][1]["box"], [0.55, 0.30, 0.92, 0.90])
    assert _close(s["resized"][1]["box"], [0.55, 0.30, 0.80, 0.75])    # bottom-right handle
    assert _close(s["resized"][0]["box"], s["drawn"][0]["box"], 0)
    assert _close(s["moved"][0]["box"], [0.13, 0.15, 0.53, 0.67])      # dragged by (0.05, 0.05)
    assert "deig-be-canvas" in s["focusAfterClick"]
    assert _boxes(s["deleted"]) == [s["moved"][0]["box"]]
    assert s["undone"] == s["moved"]                                     # Ctrl+Z brings the box back...
    assert s["graphIntactAfterUndo"] == {"probe": "same-node-object", "nodes": 2, "sink": True}  # ...not a graph undo
    assert s["shiftRedo"] == s["deleted"]                                 # Ctrl+Shift+Z redoes too
    assert s["redone"] == s["deleted"]
    assert _close(s["redrawn"][1]["box"], [0.55, 0.30, 0.80, 0.75]) and s["redrawn"][1]["text"] == "a small brown dog"
    a = s["redrawn"][0]["box"]
    assert _close(s["nudged"][0]["box"], [a[0] + 2 / 512, a[1], a[2] + 2 / 512, a[3] + 4 / 512], 2e-6)
    assert s["numeric"][0]["box"][0] == 0.125                            # 64 px of 512
    assert [it["text"] for it in s["reordered"]] == ["a small brown dog", "a red sports car"]
    assert s["tabToCanvas"] is True
    assert all(abs(v * 64 - round(v * 64)) < 1e-9 for v in s["snappedBox"]), s["snappedBox"]  # 8 px of 512

    # Rendering: box colours inside boxes, the plain background elsewhere.
    px = r["pixels"]
    assert px["empty"][:3] == [27, 27, 31]
    assert px["insideBox1"][:3] != px["empty"][:3] and px["insideBox2"][:3] != px["empty"][:3]
    assert px["insideBox1"][0] > px["insideBox1"][2]      # box 1 is red-ish, box 2 blue-ish
    assert px["insideBox2"][2] > px["insideBox2"][0]

    final = r["finalValue"]
    items = json.loads(final)
    assert [it["text"] for it in items] == ["a small brown dog", "a red sports car"]
    assert items == s["reordered"] and all(len(str(v).split(".")[-1]) <= 6 for it in items for v in it["box"])
    assert final == _parse_py(final)       # canonical: the backend's own dump of it is the same string

    # Save -> reload page -> load: same string in the workflow, the API prompt and the editor.
    assert r["savedWidgetsValues"] == [final, 512, 512]
    assert r["savedApiLayout"] == final
    assert r["reloadedValue"] == final
    assert r["reloadedRows"] == ["a small brown dog", "a red sports car"]
    assert r["snapAfterReload"] is True

    # Queued from the UI: the backend got exactly the widget's JSON and executed it.
    assert r["backendStatus"] == "success"
    assert r["backendPromptLayout"] == final
    assert r["backendOutputText"] == final

    # Malformed stored values: message in the widget, value untouched, graph fine, reset works.
    m = r["malformed"]
    for case, needle in (("invalidJson", "not valid JSON"), ("invalidBox", "x2 > x1")):
        assert "cannot be used" in m[case]["message"] and needle in m[case]["message"], m[case]
        assert m[case]["value"] == m[case]["serializedValue"]            # kept byte for byte
        assert m[case]["nodes"] == 2 and m[case]["widthWidget"] == 512
    assert m["invalidJson"]["value"].endswith('"a cat"}')
    assert m["errorHiddenAfterReset"] is True
    redrawn = json.loads(m["afterReset"])[0]["box"]   # snap is still on (it came back with the workflow)
    assert _close(redrawn, [0.2, 0.2, 0.6, 0.6], 4 / 512) and all((v * 64).is_integer() for v in redrawn)

    for name in (f"box_editor_{mode}.png", f"box_editor_{mode}_widget.png", f"box_editor_error_{mode}.png"):
        assert (artifacts_dir / name).stat().st_size > 5000, name


def test_layout_survives_paste_reload_and_the_other_frontend(comfy_server, other_frontend_server, browser,
                                                             artifacts_dir):
    """Drawn in one frontend (classic canvas), copy/pasted and reloaded there, saved, then loaded in the
    other frontend (Vue nodes): the value is the same string everywhere, and both frontends write it
    to widgets_values at the same place (1.58 adds widgets_values_named beside it)."""
    saved_file = artifacts_dir / "saved_workflow.json"
    a = browser(ROUNDTRIP, comfy_server.base_url, artifacts_dir / "save", timeout=300,
                args=("classic", "save", str(saved_file)))
    assert "error" not in a, a.get("error")
    assert _pack_errors(a, comfy_server) == []
    original = a["original"]
    assert [it["text"] for it in json.loads(original)] == ["a red sports car", "a small brown dog"]
    assert len(a["pasteIds"]) == 1
    assert [(n["value"], n["rows"], n["widgetType"]) for n in a["afterPaste"]] == \
        [(original, ["a red sports car", "a small brown dog"], "deig_box_editor")] * 2
    assert [(n["value"], n["rows"]) for n in a["afterReload"]] == [(original, ["a red sports car", "a small brown dog"])] * 2
    for node in a["savedNodes"]:
        assert node["widgets_values"] == [original, 512, 512]
        if comfy_server.frontend != paths.PINNED_FRONTEND:
            assert node["widgets_values_named"] == {"layout": original, "width": 512, "height": 512}

    b = browser(ROUNDTRIP, other_frontend_server.base_url, artifacts_dir / "load", timeout=300,
                args=("vue", "load", str(saved_file)))
    assert "error" not in b, b.get("error")
    assert _pack_errors(b, other_frontend_server) == []
    assert [(n["value"], n["rows"], n["widgetType"]) for n in b["loaded"]] == \
        [(original, ["a red sports car", "a small brown dog"], "deig_box_editor")] * 2
    assert b["reserialised"] == [[original, 512, 512]] * 2


def _bench_doc() -> dict:
    """A few DEIG-Bench entries: the shared benchmark file's first five, or a made-up stand-in."""
    if BENCH.is_file():
        return {"results": json.loads(BENCH.read_text())["results"][:5]}
    entry = lambda cap, insts: {"caption": cap, "instances": [{"bbox": b, "description": d} for b, d in insts]}  # noqa: E731
    return {"results": [
        entry("a cat", [([0.1, 0.2, 0.4000000000000001, 0.9], "a grey cat")]),
        entry("two birds", [([0.05, 0.1, 0.3, 0.4], "a blue bird"), ([0.6, 0.1, 0.9, 0.45], "a red bird")]),
        entry("a table", [([0.1, 0.5, 0.9, 0.95], "a wooden table"), ([0.3, 0.2, 0.5, 0.55], "a glass vase"),
                          ([0.6, 0.3, 0.75, 0.55], "a white mug")]),
    ]}


@pytest.mark.parametrize("mode", RENDERERS)
def test_box_editor_graph_context_and_io(comfy_server, browser, artifacts_dir, mode):
    from comfyui_deig.deig_core.layout import bench_entry, dump_layout, parse_layout

    bench = _bench_doc()
    bench_path = artifacts_dir / "bench.json"
    bench_path.write_text(json.dumps(bench, indent=1))
    r = browser(CONTEXT, comfy_server.base_url, artifacts_dir, timeout=600, args=(mode, str(bench_path)))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")
    assert _pack_errors(r, comfy_server) == []

    # Aspect: the node's widgets, then a downstream EmptyLatentImage, which wins (said in the status
    # line) and is followed when its values change; the node's own size is never overwritten.
    assert abs(r["aspectDefault"] - 1) < 0.02 and abs(r["aspectWidgets"] - 1.5) < 0.02
    assert abs(r["aspectLatent"] - 512 / 896) < 0.02
    assert "512×896 from Empty Latent Image" in r["statusLatent"] and "wins over this node's 768×512" in r["statusLatent"]
    assert r["statusButtons"] == 0 and r["ownAfterLatent"] == [768, 512]
    assert abs(r["aspectLatentChanged"] - 512 / 384) < 0.02
    # Background: the generated image itself after a real run (the green EmptyImage the DEIG preview
    # node draws on, shown by its own Preview Image), never the preview's output with boxes drawn
    # in; switchable off; then a LoadImage on the masks input sets size and image.
    g = r["bgOutputPixel"]
    assert g[1] > 120 and g[0] < 80
    assert f"image: last output of Preview Image #{r['bgNodes']['plain']}" in r["statusOutput"], r["statusOutput"]
    assert r["bgFiles"]["plain"] and r["bgFiles"]["boxed"] and r["bgFiles"]["plain"] != r["bgFiles"]["boxed"]
    assert r["bgOffPixel"][:3] == [27, 27, 31]
    assert abs(r["aspectLoadImage"] - 0.5) < 0.02
    b = r["bgLoadPixel"]
    assert b[2] > 150 and b[0] < 80
    assert "300×600 from Load Image" in r["statusLoad"] and "on masks" in r["statusLoad"] and "image: Load Image" in r["statusLoad"]

    # Import of DEIG-Bench entry 2 == what DEIG_LayoutFromBench makes of it; export paths agree.
    caption, instances = bench_entry(bench, 2)
    expected = dump_layout(instances)
    assert r["benchValue"] == expected and caption in r["benchInfo"]
    # The caption went into the connected DEIG Encode's prompt, in the same undo step as the boxes.
    assert r["setPromptChecked"] is True and "DEIG Encode" in r["setPromptLabel"]
    assert r["promptAfterImport"] == caption
    assert r["promptAfterUndo"] == "the old prompt"
    assert r["promptAfterRedo"] == caption and r["valueAfterRedo"] == expected
    assert r["exportText"] == r["downloadText"] == r["clipboard"] == expected
    assert r["downloadName"] == "deig_layout.json"
    assert "x2 > x1" in r["invalidImportMsg"] and r["dialogStillOpen"] is True
    assert r["valueAfterInvalid"] == expected
    extra = [{"box": [0.05, 0.05, 0.2, 0.2], "text": "a kite"}, {"box": [0.7, 0.05, 0.95, 0.3], "text": "the sun"}]
    assert json.loads(r["appendedValue"]) == json.loads(expected) + extra
    assert r["appendedValue"] == dump_layout(parse_layout(r["appendedValue"]))

    # Raw JSON: shows the value, takes a hand-typed value byte for byte, reports a broken one, and
    # each raw edit is an undo step.
    assert r["rawShown"] == r["appendedValue"]
    assert r["valueAfterRaw"] == '[{"box": [0.25, 0.25, 0.75, 0.75], "text": "typed by hand"}]'
    assert r["rawErrorValue"] == '[{"box": [0.25, 0.25'
    assert r["valueAfterRawUndo"] == r["appendedValue"]

    # A linked layout input makes the editor read-only; 1.58 hides the widget of a linked input (any
    # widget's, in both renderers), so there the editor is simply not shown.
    hides_linked = comfy_server.frontend == paths.NEW_FRONTEND
    assert r["linkedHidden"] is hides_linked
    assert r["linkedValue"] == "[]" and (hides_linked or r["linkedAddDisabled"] is True)
    assert (artifacts_dir / f"context_{mode}.png").is_file() and (artifacts_dir / f"import_dialog_{mode}.png").is_file()


# ------------------------------------------------------------------------ pure modules under Node
def _random_layouts(n: int, seed: int = 1234) -> list:
    """Layouts with the awkward cases: 6-decimal ties (pixel edges k/512), tiny values, edges 0/1,
    floats with 17 digits, and texts with quotes, backslashes, control characters and non-ASCII."""
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


MALFORMED = [
    "[{", "{}", "42", '"text"', "[1]", '[{"text": "no box"}]', '[{"box": [0, 0, 1], "text": "a"}]',
    '[{"box": [0, 0, "1", 1], "text": "a"}]', '[{"box": [0.5, 0, 0.5, 1], "text": "a"}]',
    '[{"box": [0, 0.6, 1, 0.2], "text": "a"}]', '[{"box": [1.5, 1.5, 2, 2], "text": "a"}]',
    '[{"box": [0.5, 0.5, 0.50005, 0.9], "text": "too thin"}]', '[{"box": [-0.5, 0.5, 0.00005, 0.9], "text": "thin after clamp"}]',
    '[{"box": [0, 0, 1, 1], "text": 5}]', '[{"box": [0, 0, 1, 1], "text": "  "}]', '[{"box": [0, 0, 1, 1]}]',
    '[{"box": [-0.001, 0, 1.0004, 1], "text": "slightly out"}]', '{"instances": [{"box": [0, 0, 1, 1], "text": "ok"}]}',
    '[{"box": [0, 0, 1, 1], "description": "old key"}]', '[{"bbox": [0, 0, 1, 1], "text": "bench key"}]',
    "", "   ", "[]",
]
EMPTY_TEXT = {'[{"box": [0, 0, 1, 1], "text": "  "}]', '[{"box": [0, 0, 1, 1]}]'}


def test_editor_modules_match_backend(tmp_path):
    """Canonical JSON, parsing rules, colours and the undo model of the editor's modules, run under
    Node and compared with the backend (deig_core.layout, the preview node's colours)."""
    assert shutil.which("node"), "node (Node.js) is not on PATH: `make setup` needs it, and this test runs the editor's modules under it"
    from comfyui_deig.deig_core.layout import LayoutError, bench_entry, dump_layout, parse_instances, parse_layout

    layouts = _random_layouts(300)
    data = {"layouts": layouts, "malformed": MALFORMED}
    data["bench"] = _bench_doc()
    src, dst = tmp_path / "in.json", tmp_path / "out.json"
    src.write_text(json.dumps(data))
    proc = subprocess.run(["node", str(UNITS), str(src), str(dst)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(dst.read_text())
    assert out["failures"] == []

    # The widget's canonical JSON is byte-identical to the backend's dump of the same layout.
    # A layout with an empty description is serialised too (the editor warns), and the backend refuses it.
    for items, js in zip(layouts, out["serialized"]):
        if all(it["text"].strip() for it in items):
            assert js == dump_layout(parse_instances(items)), items
            assert js == dump_layout(parse_layout(js))
        else:
            with pytest.raises(LayoutError, match="empty description"):
                parse_layout(js)
    assert out["reparsed"] == out["serialized"]          # idempotent: parse + serialise changes nothing

    # Same accept/reject decisions as the backend; the backend's "empty description" rejection is
    # the editor's "missing text" warning (a freshly drawn box has no description yet).
    for text, js in zip(MALFORMED, out["malformed"]):
        try:
            parse_layout(text)
            py_ok = True
        except LayoutError:
            py_ok = False
        if text in EMPTY_TEXT:
            assert not py_ok and js["ok"] and js["missingText"] == [1], (text, js)
        else:
            assert js["ok"] == py_ok, (text, js)

    # DEIG-Bench entries import to exactly the layout the DEIG_LayoutFromBench node produces.
    bench = out["bench"]
    assert bench["kind"] == "bench" and bench["count"] == len(data["bench"]["results"])
    for i, got in enumerate(bench["entries"]):
        caption, instances = bench_entry(data["bench"], i)
        assert got == {"caption": caption, "value": dump_layout(instances)}

    # Instance colours are the preview node's colours.
    from comfyui_deig.deig_core.preview import instance_color
    assert [tuple(c) for c in out["colors"]] == [instance_color(i) for i in range(len(out["colors"]))]
