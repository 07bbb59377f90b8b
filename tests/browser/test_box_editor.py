"""The box editor on DEIG_InstanceLayout, driven with real mouse and keyboard input in headless
Chromium against the real ComfyUI server, in both node renderers (classic litegraph canvas and the
Vue "Nodes 2.0" renderer of the pinned frontend).

One browser script per renderer (``box_editor_flow.mjs``) performs the whole user story and reports
what it saw; the assertions are here.
"""
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
FLOW = HERE / "box_editor_flow.mjs"
PACK_URL = "/extensions/ComfyUI-DEIG/"
EXPECTED_MODULES = {
    "deig_box_editor.js", "editor/canvas_view.js", "editor/colors.js", "editor/editor.js", "editor/io_dialog.js",
    "editor/layout_json.js", "editor/list_view.js", "editor/node_glue.js", "editor/state.js", "editor/styles.js",
}
TOL = 1e-3  # drawn coordinates come from screen pixels; what is stored must then round-trip exactly


def _pack_errors(result: dict) -> list:
    """Console errors, uncaught page errors and failed requests that come from this pack's files
    (its URL in the source or stack, or the editor's log tag). Not counted: the frontend's own
    lookups of node names on the (unreachable) Comfy registry, which mention DEIG node ids."""
    def mine(text: str) -> bool:
        return PACK_URL in (text or "") or "[DEIG box editor]" in (text or "")

    return ([e for e in result["consoleErrors"] if mine(e.get("url")) or mine(e.get("text"))]
            + [e for e in result["pageErrors"] if mine(e)]
            + [r for r in result["requestFailures"] if mine(r.get("url"))])


def _boxes(items):
    return [it["box"] for it in items]


def _close(a, b, tol=TOL):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def _parse_py(value: str):
    """The backend's parser on the widget value (the same module the node uses)."""
    from deig_core.layout import dump_layout, parse_layout

    return dump_layout(parse_layout(value))


@pytest.mark.parametrize("mode", ["classic", "vue"])
def test_box_editor_user_story(comfy_server, browser, artifacts_dir, mode):
    r = browser(FLOW, comfy_server.base_url, artifacts_dir, timeout=300, args=(mode,))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")

    # The pack loaded cleanly: extension registered, each module fetched once, no errors from it.
    assert r["load"]["registered"]
    mods = [p.split(PACK_URL, 1)[1] for p in r["load"]["packModules"]]
    assert set(mods) == EXPECTED_MODULES and len(mods) == len(set(mods)), mods
    assert _pack_errors(r) == []

    # The editor replaced the textarea in place, in the renderer asked for.
    assert r["vueNodesSetting"] is (mode == "vue")
    assert r["widgetNames"] == ["layout", "width", "height"]
    assert r["widgetType"] == "deig_box_editor"
    assert r["domWidgetParent"] == ({"inDomWidgetOverlay": False, "inVueNode": True} if mode == "vue"
                                    else {"inDomWidgetOverlay": True, "inVueNode": False})

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
    assert _close(json.loads(m["afterReset"])[0]["box"], [0.2, 0.2, 0.6, 0.6])

    for name in (f"box_editor_{mode}.png", f"box_editor_{mode}_widget.png", f"box_editor_error_{mode}.png"):
        assert (artifacts_dir / name).stat().st_size > 5000, name
