"""The layout-file nodes keep saying what their file holds, on the node, for a file chosen from the list
(nothing uploaded, so no toast ever said it): how many
entries of which format, which entries a run of DEIG Layouts from File takes (and that count 0 means
all from start), that entry_id names each image's entry, and a start past the end as an error; on both
frontends and renderers. The note is never sent with the prompt."""
import json
from pathlib import Path

import pytest

from devkit.browser import unexpected_errors

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).with_name("layout_file_note.mjs")
ENTRIES = [{"id": f"e{i}", "caption": f"scene {i}", "instances": [{"box": [0.1, 0.1, 0.5, 0.6], "text": f"a red car {i}"}]}
           for i in range(4)]


@pytest.mark.parametrize("mode", ["classic", "vue"])
def test_layout_file_nodes_say_what_the_file_holds(comfy_server, browser, artifacts_dir, mode):
    name = f"four_scenes_{mode}.jsonl"
    (comfy_server.input_dir / name).write_text("\n".join(json.dumps(e) for e in ENTRIES) + "\n")
    r = browser(SCRIPT, comfy_server.base_url, artifacts_dir, timeout=240, args=(mode, name))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")
    assert unexpected_errors(r, comfy_server.base_url, comfy_server.frontend) == []

    all_, one = r["all"], r["one"]
    assert all_["visible"] and one["visible"]
    assert f"{name}: 4 JSON Lines entries" in all_["text"] and f"{name}: 4 JSON Lines entries" in one["text"]
    assert "A run takes 4 entries: 0–3" in all_["text"] and "count 0 = all from start" in all_["text"]
    assert "entry_id" in all_["text"] and "filename_prefix" in all_["text"]
    assert "index 0–3" in one["text"]
    assert "A run takes 2 entries: 1–2" in r["some"]["text"] and r["some"]["kind"] == "info"
    assert "start 10 is past the last entry (3)" in r["past"]["text"] and r["past"]["kind"] == "error"
    assert all_["promptInputs"] == {"file": name, "start": 0, "count": 0}
    assert one["promptInputs"] == {"file": name, "index": 0}
    for shot in ("chosen", "past_end"):
        assert (artifacts_dir / f"{shot}_{mode}.png").is_file()
