"""A missing model file is said on the loader itself, before queueing, in both frontends and renderers:
the DEIG Model Loader shows which file is missing and the folder it goes in (the server's own models/deig
path); the note goes once the chosen file is there, and nothing of it is saved or sent."""
import json
from pathlib import Path

import pytest

from devkit.browser import unexpected_errors

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).with_name("model_file_note.mjs")
MISSING = "deig_from_a_friend.safetensors"


@pytest.mark.parametrize("mode", ["classic", "vue"])
def test_the_loader_says_which_model_file_is_missing_and_where_it_goes(comfy_server, browser, artifacts_dir, mode):
    deig_folder = Path(comfy_server.request("/deig/missing_models", {"models": [
        {"node": 1, "title": "x", "input": "deig_name", "value": MISSING}]})["missing"][0]["paths"][0])
    present = deig_folder / f"deig_in_place_{mode}.safetensors"   # only there, never loaded
    present.write_bytes(b"")
    try:
        r = browser(SCRIPT, comfy_server.base_url, artifacts_dir, timeout=240, args=(mode, MISSING, present.name))
    finally:
        present.unlink()   # the models tree is shared: other tests meet an empty models/deig
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")
    assert unexpected_errors(r, comfy_server.base_url, comfy_server.frontend) == []
    note = r["missing"]["deig"]
    assert MISSING in note["text"] and str(deig_folder) in note["text"], note["text"]
    assert note["visible"]
    # on the loader: the note lies within the node's rectangle on screen
    n, box = note["nodeRect"], note["noteRect"]
    assert n["left"] - 1 <= box["left"] and box["right"] <= n["right"] + 1, (n, box)
    assert n["top"] - 1 <= box["top"] and box["bottom"] <= n["bottom"] + 1, (n, box)
    assert r["missing"]["t5"]["text"] == ""            # its file is there: nothing to say
    # the note is not an input: prompts and saved workflows hold the loader's inputs only
    assert note["promptInputs"] == {"deig_name": MISSING, "dtype": "auto"}
    assert [v for v in note["widgetsValues"] if v is not None] == [MISSING, "auto"]
    assert r["present_"]["text"] == "" and r["present_"]["value"] == present.name
    for when in ("missing", "present"):
        assert (artifacts_dir / f"{when}_{mode}.png").is_file()
