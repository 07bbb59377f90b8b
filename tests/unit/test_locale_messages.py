"""The pack's messages (locales/*/main.json): every English message has a Chinese one with the same
placeholders, and nothing the frontend would misread (vue-i18n's special characters)."""
import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

LOCALES = Path(__file__).resolve().parents[2] / "locales"


def _messages(lang: str) -> dict:
    return json.loads((LOCALES / lang / "main.json").read_text(encoding="utf-8"))["deig"]


def test_every_english_message_has_a_chinese_one_and_the_same_placeholders():
    def flat(tree, prefix=""):
        for k, v in tree.items():
            if isinstance(v, dict):
                yield from flat(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}", v

    en, zh = dict(flat(_messages("en"))), dict(flat(_messages("zh")))
    # plural forms: zh has only "other"; every en key has its zh key or its "other" sibling
    missing = [k for k in en if k not in zh and not (k.endswith(".one") and k[:-4] + ".other" in zh)]
    assert missing == []
    assert [k for k in zh if k not in en] == []
    for key, text in zh.items():
        base = key[:-4] + ".other" if key.endswith(".one") else key
        want = set(re.findall(r"\{(\w+)\}", en.get(base, en[key]))) - {"count"}
        assert set(re.findall(r"\{(\w+)\}", text)) - {"count"} == want, key


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_messages_hold_no_characters_the_frontends_i18n_would_interpret(lang):
    # main.json is merged into the frontend's vue-i18n messages: "@" links and "|" plurals there
    text = json.dumps(_messages(lang), ensure_ascii=False)
    assert "@" not in text and "|" not in text
