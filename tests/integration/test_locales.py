"""What the frontend shows about each node in the user's language: locales/<lang>/nodeDefs.json (names,
descriptions, input and output names and tooltips) and the help pages web/js/docs/<node id>/<lang>.md,
checked against the nodes' real schemas (every node id, input and output; none missing, none extra)."""
import re

import pytest

from devkit.locales import LANGUAGES, dumps, node_classes, node_defs_en, read
from devkit.paths import REPO_ROOT

pytestmark = pytest.mark.integration

HELP = REPO_ROOT / "web" / "js" / "docs"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _keys(tree: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in tree.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= _keys(v, prefix + k + "/")
    return out


def test_every_node_output_has_a_tooltip():
    for cls in node_classes():
        schema = cls.define_schema()
        for n, output in enumerate(schema.outputs):
            assert output.tooltip, f"{schema.node_id} output {n} has no tooltip"


def test_english_node_defs_are_the_schemas():
    committed = (REPO_ROOT / "locales" / "en" / "nodeDefs.json").read_text(encoding="utf-8")
    assert committed == dumps(node_defs_en()), "run python scripts/make_locales.py"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translation_covers_every_node_input_and_output(lang):
    expected, got = _keys(node_defs_en()), _keys(read(lang))
    assert not expected - got, f"locales/{lang}/nodeDefs.json lacks {sorted(expected - got)}"
    assert not got - expected, f"locales/{lang}/nodeDefs.json has keys no node has: {sorted(got - expected)}"


def test_chinese_strings_are_chinese():
    def leaves(tree, path=""):
        for k, v in tree.items():
            yield from leaves(v, f"{path}/{k}") if isinstance(v, dict) else [(f"{path}/{k}", v)]
    for path, text in leaves(read("zh")):
        assert isinstance(text, str) and text.strip(), path
        if path.endswith(("/tooltip", "/description", "/display_name")):
            assert CJK.search(text), f"locales/zh/nodeDefs.json {path} is not translated: {text!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_node_has_a_help_page(lang):
    """The frontend fetches /extensions/<pack>/docs/<node id>/<locale>.md from the pack's web directory."""
    defs = read(lang)
    for node_id, d in node_defs_en().items():
        page = HELP / node_id / f"{lang}.md"
        assert page.is_file(), f"no help page {page.relative_to(REPO_ROOT)}"
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# {defs[node_id]['display_name']}\n"), f"{page.name} of {node_id}: title"
        for input_id, i in d["inputs"].items():   # every input and output is explained, by its shown name
            assert f"`{defs[node_id]['inputs'][input_id]['name']}`" in text, f"{node_id}/{lang}.md: input {input_id}"
        for n, o in defs[node_id]["outputs"].items():
            assert f"`{o['name']}`" in text, f"{node_id}/{lang}.md: output {n}"
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):   # pictures resolve against docs/
            assert (HELP / image).is_file(), f"{node_id}/{lang}.md shows a missing picture {image}"
