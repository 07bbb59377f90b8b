"""The layout-file nodes' upload button in a real browser, on both frontends and renderers: a person
clicks it, picks a .jsonl file in the chooser, and the file lands in the server's input folder, is
listed and chosen on the node, and a toast says how many entries the node reads; a file the node
cannot read is refused at once in the node's own words. Saved workflows and API prompts keep only the
node's inputs (the button is not serialised)."""
import json
from pathlib import Path

import pytest

from devkit.browser import unexpected_errors

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).with_name("layout_file_upload.mjs")
RENDERERS = ["classic", "vue"]
GOOD = [{"caption": f"scene {i}", "instances": [{"box": [0.1, 0.1, 0.5, 0.6], "text": f"a red car {i}"},
                                               {"box": [0.5, 0.2, 0.9, 0.9], "text": "a brown dog"}]}
        for i in range(3)]
BAD = {"results": [{"caption": "x", "instances": [{"bbox": [0.6, 0.1, 0.2, 0.3], "description": "a cat"}]}]}


def _upload(browser, server, artifacts_dir, mode, node_class, file, toast, method="button"):
    r = browser(SCRIPT, server.base_url, artifacts_dir / f"{node_class}_{method}", timeout=240,
                args=(mode, node_class, str(file), toast, method))
    (artifacts_dir / f"{node_class}_{method}.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")
    assert unexpected_errors(r, server.base_url, server.frontend) == []
    return r


@pytest.mark.parametrize("mode", RENDERERS)
def test_upload_button_stores_lists_and_checks_the_file(comfy_server, browser, artifacts_dir, mode, tmp_path):
    good = tmp_path / f"bench_three_{mode}.jsonl"
    good.write_text("\n".join(json.dumps(e) for e in GOOD) + "\n")
    bad = tmp_path / f"reversed_box_{mode}.json"
    bad.write_text(json.dumps(BAD))

    r = _upload(browser, comfy_server, artifacts_dir, mode, "DEIG_LayoutsFromFile", good, "entries")
    before = r["before"]["DEIG_LayoutsFromFile"]
    assert before["widgetNames"] == ["file", "start", "count", "choose a layout file to upload", "deig_layout_file_note"]
    assert good.name not in before["options"]
    assert r["upload"]["accept"] == ".json,.jsonl,application/json"
    # The file is in the server's input folder, byte for byte, listed and chosen on the node.
    assert (comfy_server.input_dir / good.name).read_bytes() == good.read_bytes()
    after = r["after"]["DEIG_LayoutsFromFile"]
    assert after["file"] == good.name and good.name in after["options"]
    assert "3 JSON Lines entries" in r["upload"]["toast"] and good.name in r["upload"]["toast"]
    # after the toast has gone the node still says it, and what a run takes
    assert f"{good.name}: 3 JSON Lines entries" in r["noteAfterToast"] and "count 0 = all" in r["noteAfterToast"]
    # Only the node's inputs are saved and sent: the button adds nothing to either.
    assert after["promptInputs"] == {"file": good.name, "start": 0, "count": 0}
    assert after["widgetsValues"][:3] == [good.name, 0, 0]
    assert [v for v in after["widgetsValues"][3:] if v is not None] == []
    assert r["after"]["DEIG_LayoutFromFile"].get("file") == r["before"]["DEIG_LayoutFromFile"].get("file")  # untouched

    # A file the node cannot read: uploaded, chosen, and refused at once in the node's own words.
    r = _upload(browser, comfy_server, artifacts_dir, mode, "DEIG_LayoutFromFile", bad, "input 'file'")
    toast = r["upload"]["toast"]
    assert "DEIG Layout from File: input 'file'" in toast and "entry 0" in toast and bad.name in toast
    assert "DEIG Layout from File: input 'file'" in r["noteAfterToast"]   # the refusal stays on the node
    one = r["after"]["DEIG_LayoutFromFile"]
    assert one["file"] == bad.name and one["promptInputs"] == {"file": bad.name, "index": 0}
    assert good.name in one["options"]   # the earlier upload is listed on a new page too
    for node_class in ("DEIG_LayoutsFromFile", "DEIG_LayoutFromFile"):
        for when in ("before", "after"):
            assert (artifacts_dir / f"{node_class}_button" / f"{node_class}_{when}_{mode}.png").is_file()


@pytest.mark.parametrize("mode", RENDERERS)
def test_a_layout_file_dropped_on_the_node_is_uploaded_and_chosen(comfy_server, browser, artifacts_dir, mode,
                                                                  tmp_path):
    dropped = tmp_path / f"dropped_{mode}.jsonl"
    dropped.write_text("\n".join(json.dumps(e) for e in GOOD[:2]) + "\n")
    r = _upload(browser, comfy_server, artifacts_dir, mode, "DEIG_LayoutFromFile", dropped, "entries", "drop")
    assert (comfy_server.input_dir / dropped.name).read_bytes() == dropped.read_bytes()
    one = r["after"]["DEIG_LayoutFromFile"]
    assert one["file"] == dropped.name and one["promptInputs"] == {"file": dropped.name, "index": 0}
    assert "2 JSON Lines entries" in r["upload"]["toast"]
    # taken by the node, not loaded by the frontend as a workflow: the graph is the same two nodes
    assert r["graphNodes"] == ["DEIG_LayoutFromFile", "DEIG_LayoutsFromFile"]
    assert r["after"]["DEIG_LayoutsFromFile"].get("file") == r["before"]["DEIG_LayoutsFromFile"].get("file")


@pytest.mark.parametrize("mode", RENDERERS)
def test_drag_handlers_the_node_already_had_still_run(comfy_server, browser, artifacts_dir, mode, tmp_path):
    """The upload's drop handling is chained onto the node's own drag handlers (another extension's),
    never put in their place: a file that is not a layout file still reaches them."""
    dropped = tmp_path / f"chained_{mode}.jsonl"
    dropped.write_text("\n".join(json.dumps(e) for e in GOOD[:2]) + "\n")
    r = _upload(browser, comfy_server, artifacts_dir, mode, "DEIG_LayoutFromFile", dropped, dropped.name, "drop-chained")
    assert r["otherAfterText"]["drop"] == [["notes.txt"]]           # not a layout file: theirs
    assert r["otherAfterLayout"]["drop"] == [["notes.txt"]]          # the layout file was the pack's
    assert (comfy_server.input_dir / dropped.name).read_bytes() == dropped.read_bytes()
    assert "2 JSON Lines entries" in r["upload"]["toast"]
    assert not (comfy_server.input_dir / "notes.txt").exists()
