"""The box editor speaks the user's frontend language (the Language setting, Comfy.Locale): Chinese
strings in zh, English in en, read from the pack's locales/*/main.json through the host's /i18n, on
both frontends and both renderers."""
import json
import re
import urllib.request
from pathlib import Path

import pytest

from devkit.browser import unexpected_errors

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).with_name("editor_language.mjs")
LOCALES = Path(__file__).resolve().parents[2] / "locales"
HAN = re.compile(r"[\u4e00-\u9fff]")


def _messages(lang: str) -> dict:
    return json.loads((LOCALES / lang / "main.json").read_text(encoding="utf-8"))["deig"]


def _set_locale(server, value: str) -> None:
    req = urllib.request.Request(f"{server.base_url}/api/settings/Comfy.Locale", data=json.dumps(value).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=30).read()


@pytest.mark.parametrize("mode", ["classic", "vue"])
def test_the_editor_shows_the_frontends_language(comfy_server, browser, artifacts_dir, mode):
    zh, en = _messages("zh"), _messages("en")
    try:
        r = browser(SCRIPT, comfy_server.base_url, artifacts_dir, timeout=300, args=(mode, "zh", "en"))
    finally:
        _set_locale(comfy_server, "en")   # the server is shared: later tests meet the default language
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1, ensure_ascii=False))
    assert "error" not in r, r.get("error")
    assert unexpected_errors(r, comfy_server.base_url, comfy_server.frontend) == []
    seen_zh, seen_en = r["seen"]["zh"], r["seen"]["en"]
    assert seen_zh["frontendLocale"] == "zh" and seen_en["frontendLocale"] == "en"

    e, z = en["editor"], zh["editor"]
    for words, msgs in ((seen_zh, zh), (seen_en, en)):
        m = msgs["editor"]
        assert [m["add"], m["delete"], m["undo"], m["redo"], m["snap"], m["image"], m["io"], m["json"]] == [
            t for t in words["toolbar"] if t], words["toolbar"]
        assert m["addTip"] in words["tooltips"] and m["noImageTip"] in words["tooltips"]   # no image in this graph
        assert words["placeholder"] == msgs["detail"]["placeholder"]
        assert words["detail"] == msgs["detail"]["instanceNeedsText"].replace("{n}", "1")
        assert msgs["editor"]["boxes"].get("one", msgs["editor"]["boxes"]["other"]).replace("{count}", "1") in words["status"]
    # what a person reads: Chinese in zh, no Chinese in en
    assert "撤销" in seen_zh["toolbar"] and z["undo"] != e["undo"]
    assert HAN.search(seen_zh["note"]) and HAN.search(seen_zh["status"]) and HAN.search(seen_zh["detail"])
    assert seen_en["note"] == "Box 1 needs a description before queueing."
    assert not any(HAN.search(json.dumps(v, ensure_ascii=False)) for v in seen_en.values())
    for lang in ("zh", "en"):
        assert (artifacts_dir / f"editor_{lang}_{mode}.png").is_file()

