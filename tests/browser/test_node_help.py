"""Each node's help page is shown where a user looks for it, in the frontend's language: the node library's
help (1.32.9) or the selected node's Info panel (1.58.1) renders web/js/docs/<node id>/<lang>.md, pictures
included, in English and in Chinese; on 1.58.1 the node's title on the canvas is the Chinese name from
locales/zh/nodeDefs.json (frontend 1.32.9 drops a pack's translations when it loads its own Chinese
messages, so its titles stay English there)."""
from pathlib import Path

import pytest

from devkit import paths
from devkit.browser import unexpected_errors
from devkit.locales import read

pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).with_name("node_help.mjs")


@pytest.mark.parametrize("node_id", ["DEIG_InstanceLayout", "DEIG_Apply"])
def test_help_page_shown_in_english_and_chinese(comfy_server, browser, artifacts_dir, node_id):
    en, zh = read("en")[node_id], read("zh")[node_id]
    result = browser(SCRIPT, comfy_server.base_url, artifacts_dir, timeout=300,
                     args=(comfy_server.frontend, node_id, en["display_name"], zh["display_name"]))
    assert "error" not in result, result.get("error")
    assert unexpected_errors(result, comfy_server.base_url, comfy_server.frontend) == []
    shown = result["shown"]
    for lang, defs in (("en", en), ("zh", zh)):
        page = shown[lang]
        assert page["heading"] == defs["display_name"], lang     # our page, not the description fallback
        for i in defs["inputs"].values():
            assert i["name"] in page["help"], (lang, i["name"])
        assert all(img["width"] > 0 for img in page["images"]), page["images"]
        assert (artifacts_dir / f"help_{lang}.png").is_file()
    assert shown["en"]["title"] == en["display_name"]
    if comfy_server.frontend == paths.NEW_FRONTEND:
        assert shown["zh"]["title"] == zh["display_name"]
    if node_id == "DEIG_InstanceLayout":   # the editor screenshot in the page
        assert [Path(img["src"]).name for img in shown["en"]["images"]] == ["box_editor.png"]
