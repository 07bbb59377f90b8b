"""The box editor on DEIG_InstanceLayout, driven with real mouse and keyboard input in headless
Chromium against the real ComfyUI server, on both frontends (the pinned 1.32.9 and the newest 1.58.1,
see conftest.py) and in both node renderers (classic litegraph canvas and the Vue "Nodes 2.0" one).

One browser script per renderer (``box_editor_flow.mjs``) performs the whole user story and reports
what it saw; the assertions are here.
"""
import json
from pathlib import Path

import pytest

from devkit import paths
from devkit.browser import pack_errors, pack_url

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
FLOW = HERE / "box_editor_flow.mjs"
CONTEXT = HERE / "box_editor_context.mjs"
ROUNDTRIP = HERE / "box_editor_roundtrip.mjs"
LIFECYCLE = HERE / "box_editor_lifecycle.mjs"
BENCH = Path(__file__).resolve().parents[3] / "shared" / "bench" / "deig_bench_coco.json"
WEB_JS = paths.REPO_ROOT / "web" / "js"
EXPECTED_MODULES = {p.relative_to(WEB_JS).as_posix() for p in WEB_JS.rglob("*.js")}  # every file the frontend serves
TOL = 1e-3  # drawn coordinates come from screen pixels; what is stored must then round-trip exactly
DRAWN_TOL = TOL + 0.5 / 512  # ... and land on whole pixels of the 512-pixel image: half a pixel more


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
    url = pack_url(comfy_server)
    r = browser(FLOW, comfy_server.base_url, artifacts_dir, timeout=300, args=(mode, url))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")

    # The pack loaded cleanly: extension registered, each module fetched once, no errors or
    # deprecation warnings from it, no console error the stock frontend would not log anyway.
    assert r["load"]["registered"]
    mods = [p.split(url, 1)[1] for p in r["load"]["packModules"]]
    assert set(mods) == EXPECTED_MODULES and len(mods) == len(set(mods)), mods
    assert pack_errors(r, comfy_server) == []

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
    assert _close(s["drawn"][0]["box"], [0.08, 0.10, 0.48, 0.62], DRAWN_TOL)
    assert _close(s["drawn"][1]["box"], [0.55, 0.30, 0.92, 0.90], DRAWN_TOL)
    assert _close(s["resized"][1]["box"], [0.55, 0.30, 0.80, 0.75], DRAWN_TOL)    # bottom-right handle
    assert _close(s["resized"][0]["box"], s["drawn"][0]["box"], 0)
    assert _close(s["moved"][0]["box"], [0.13, 0.15, 0.53, 0.67], DRAWN_TOL)      # dragged by (0.05, 0.05)
    # every pointer edit lands on whole pixels of the 512x512 image (6-decimal JSON: within 1e-3 px)
    assert all(abs(v * 512 - round(v * 512)) < 1e-3 for k in ("drawn", "resized", "moved")
               for it in s[k] for v in it["box"]), {k: s[k] for k in ("drawn", "resized", "moved")}
    assert "deig-be-canvas" in s["focusAfterClick"]
    assert _boxes(s["deleted"]) == [s["moved"][0]["box"]]
    assert s["undone"] == s["moved"]                                     # Ctrl+Z brings the box back...
    assert s["graphIntactAfterUndo"] == {"probe": "same-node-object", "nodes": 2, "sink": True}  # ...not a graph undo
    assert s["shiftRedo"] == s["deleted"]                                 # Ctrl+Shift+Z redoes too
    assert s["redone"] == s["deleted"]
    assert _close(s["redrawn"][1]["box"], [0.55, 0.30, 0.80, 0.75], DRAWN_TOL) and s["redrawn"][1]["text"] == "a small brown dog"
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
    assert pack_errors(a, comfy_server) == []
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
    assert pack_errors(b, other_frontend_server) == []
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
    from comfyui_deig.deig_core.layout import dump_layout, parse_layout
    from comfyui_deig.deig_core.layout_files import entry_at, parse_layout_document

    bench = _bench_doc()
    bench_path = artifacts_dir / "bench.json"
    bench_path.write_text(json.dumps(bench, indent=1))
    r = browser(CONTEXT, comfy_server.base_url, artifacts_dir, timeout=600, args=(mode, str(bench_path)))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")
    assert pack_errors(r, comfy_server) == []

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
    entry = entry_at(parse_layout_document(json.dumps(bench)), 2)
    caption, expected = entry.caption, dump_layout(entry.instances)
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


@pytest.mark.parametrize("mode", RENDERERS)
def test_box_editor_lifecycle_and_trial_items(comfy_server, browser, artifacts_dir, mode):
    """The editor as a long-lived page component (issue #20) and what a person met in a trial about its
    node (issue #23): see box_editor_lifecycle.mjs for what is counted and how."""
    r = browser(LIFECYCLE, comfy_server.base_url, artifacts_dir, timeout=300, args=(mode, pack_url(comfy_server)))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")
    assert pack_errors(r, comfy_server) == []

    # Trial: with a connected latent the node's own width/height say they are overridden (and cannot
    # be typed in); their values still go to the backend unchanged, and nothing of it is saved.
    for name, value in (("width", 768), ("height", 512)):
        assert r["ownBeforeLatent"][name] == {"label": name, "disabled": False, "value": value}
        assert r["ownWithLatent"][name] == {"label": f"{name} (overridden)", "disabled": True, "value": value}
        assert r["promptWithLatent"][name] == value
    assert not any("overridden" in (label or "") for label in r["savedInputLabels"])
    if mode == "vue" and comfy_server.frontend == paths.NEW_FRONTEND:
        assert "width (overridden)" in r["ownWithLatent"]["vueText"]
    # Trial: a freshly drawn box shows (and is) whole pixels of the 512x896 image.
    assert all(v.isdigit() for v in r["pixelFields"]), r["pixelFields"]
    assert [round(v * s) for v, s in zip(r["drawnBox"], (512, 896) * 2)] == [int(v) for v in r["pixelFields"]]
    assert all(abs(v * s - round(v * s)) < 1e-3 for v, s in zip(r["drawnBox"], (512, 896) * 2)), r["drawnBox"]
    # Trial: resting the pointer on the editor shows no tooltip of the hidden raw-JSON field (classic
    # renderer: the frontend puts the input's tooltip as a title on the widget's container).
    assert "JSON list" in r["layoutTooltip"]
    for spot in ("tooltipOnCanvas", "tooltipOnPanel"):
        assert "JSON" not in (r[spot] or ""), (spot, r[spot])
    # Trial: 1.58's side panel lists the node's parameters without a bare "layout" entry.
    if comfy_server.frontend == paths.NEW_FRONTEND:
        assert r["panel"] is True
        assert "layout" not in r["panelLines"] and "width (overridden)" in r["panelLines"], r["panelLines"]

    # Pointer moves change the layout at once and draw at most once per animation frame.
    assert r["burst"]["drawsInTask"] == 0 and 1 <= r["burst"]["drawsAfterTwoFrames"] <= 2, r["burst"]
    assert 1 <= r["hover"]["draws"] <= r["hover"]["frames"], r["hover"]
    # An image still loading gets one load listener from the editor, however often it refreshes.
    assert r["refreshesWhileLoading"] >= 8 and r["imageListeners"] == 1
    # Removed: no frame or timer of the pack is left (the token count of a description just typed
    # included), nothing refreshes the gone editor (the image loading, a watched value changing), and
    # the other nodes' widgets and link callbacks are as they were before it watched them; a node it
    # never depended on was never wrapped.
    assert r["afterRemoval"]["frames"] == 0 and r["afterRemoval"]["timers"] == 0, r["afterRemoval"]
    assert r["laterPending"] == {"frames": 0, "timers": 0}
    assert r["laterRefreshes"] == r["afterRemoval"]["refreshes"]
    lat, ks, lone = (str(r["ids"][k]) for k in ("lat", "ks", "lone"))
    assert r["slotsWatching"][lat]["values"]["width"].startswith("own accessor")
    assert r["slotsWatching"][ks]["onConnectionsChangeAsFirst"] is False
    assert r["slotsWatching"][lone] == r["slotsBefore"][lone]
    assert r["refreshesOnUnrelatedLink"] == 0
    assert r["slotsAfterRemoval"] == r["slotsBefore"]
    assert all(v["onConnectionsChangeAsFirst"] for v in r["slotsBefore"].values())
    # The same node added back: shown, and its canvas follows the room it gets again.
    assert r["revivedShown"] is True and r["revivedCanvasFollows"] is True
    for name in ("overridden", "hover", "revived"):
        assert (artifacts_dir / f"lifecycle_{name}_{mode}.png").is_file()


