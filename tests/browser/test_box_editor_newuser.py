"""The box editor as a new user meets it (issue 16), in headless Chromium against a real ComfyUI
server, in both node renderers: the example workflows open fitted and without overlapping nodes,
with the right aspect at once and every missing model file listed; the size rule is stated; the
zoomed-out node still shows its boxes; the node has a minimum size; long lists scroll visibly and
labels tell instances apart; invalid coordinates are refused; token counts and the 30-box note show.

One browser script per renderer (``box_editor_newuser.mjs``) does it all and keeps a screenshot per
item (``item<N>_*.png``); the assertions are here.
"""
import json
from pathlib import Path

import pytest

from devkit.example_models import DEIG_RELEASE, install_example_inputs
from devkit.example_workflows import DESCRIPTIONS

from devkit.browser import pack_errors

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).with_name("box_editor_newuser.mjs")
LONG_TEXT = ("a very detailed description of a vintage red bicycle with chrome fenders, a wicker basket full of "
             "sunflowers, leather saddle, white-wall tyres and a brass bell, ") * 14   # ~2,000 characters


def _overlaps(rects: dict) -> list:
    names = list(rects)
    found = []
    for i, a in enumerate(names):
        ax, ay, aw, ah = rects[a]
        for b in names[i + 1:]:
            bx, by, bw, bh = rects[b]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                found.append((a, b))
    return found


def _host_token_count(text: str) -> int:
    from comfyui_deig.deig_core.text_encoder import count_tokens, load_tokenizer
    from comfyui_deig.nodes.nodes_loaders import HOST_TOKENIZER

    return count_tokens(load_tokenizer(HOST_TOKENIZER), text)


@pytest.mark.parametrize("mode", ["classic", "vue"])
def test_box_editor_as_a_new_user_meets_it(comfy_server, browser, artifacts_dir, mode):
    install_example_inputs(comfy_server.input_dir)  # the pose image the ControlNet example loads
    text_path = artifacts_dir / "long_text.txt"
    text_path.write_text(LONG_TEXT)
    r = browser(SCRIPT, comfy_server.base_url, artifacts_dir, timeout=420, args=(mode, str(text_path), comfy_server.pack_folder))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")
    assert pack_errors(r, comfy_server) == []

    # 1. The 768x512 example opens at 768x512 at once (no pointer over the editor), says where that
    #    comes from, offers nothing that would overwrite the workflow's size, and follows the latent.
    one = r["item1"]
    assert abs(one["aspect"] - 1.5) < 0.02, one
    assert one["status"].startswith("768×512 from Empty Latent Image #8"), one["status"]
    assert one["buttons"] == 0 and one["own"] == [768, 512]
    assert abs(one["aspectAfterLatent512"] - 1) < 0.02 and abs(one["aspectAfterLatent768"] - 1.5) < 0.02

    # 2. One rule, stated: the connected latent wins over the node's own width, and the status says so.
    two = r["item2"]
    assert "512×512 from Empty Latent Image #8; it wins over this node's 768×512" in two["status"], two
    assert abs(two["aspect"] - 1) < 0.02
    assert "wins over this node's width/height" in two["rule"]

    # 3. At 50 % zoom the node shows each instance's colour (boxes and number badges).
    three = r["item3"]
    assert all(c > 40 for c in three["counts"]), three
    if mode == "classic":
        assert three["lowQuality"] is True and three["source"] == "graph canvas"   # drawn on the node itself

    # 4. Shrunk from a script, the node stops at a size where nothing is cut or spills out.
    four = r["item4"]
    assert four["size"][0] >= 340 - 1, four
    assert four["clipped"] == [], four["clipped"]
    assert min(four["coordWidths"]) >= 30, four

    # 5. Example workflows: no two nodes overlap in this renderer, and the whole graph is in view.
    assert sorted(r["workflows"]) == sorted(DESCRIPTIONS)  # every example workflow was opened
    for name, seen in r["workflows"].items():
        rects, view = seen["rects"], seen["view"]
        assert _overlaps(rects) == [], (name, _overlaps(rects))
        ox, oy = view["offset"]
        for node, (x, y, w, h) in rects.items():
            assert x + ox >= -1 and y + oy >= -1, (name, node, view)
            assert x + w + ox <= view["width"] + 1 and y + h + oy <= view["height"] + 1, (name, node, view)

    # 6. Six donuts: all six rows visible; twelve rows scroll with a visible scrollbar and a hint;
    #    the canvas labels differ and the tooltip gives the full description.
    six = r["item6"]
    assert six["six"] == {"rows": 6, "visibleRows": 6, "scrollThumb": None, "scrolls": False}, six
    twelve = six["twelve"]
    assert twelve["rows"] == 12 and twelve["scrolls"] and twelve["visibleRows"] >= 6, six
    assert twelve["scrollThumb"] and twelve["scrollThumb"][0] >= 6 and twelve["scrollThumb"][1] >= 12, six
    assert "more below" in six["more"] and six["lastRowVisible"] is True
    assert len(set(six["labels"])) == 6 and not any(lab.startswith("a donut") for lab in six["labels"]), six["labels"]
    assert six["tooltip"].startswith("3: a plain sugar-dusted donut"), six["tooltip"]

    # 7. x1 typed past x2 or past the image: refused at the field, the box unchanged; a valid value
    #    applies; a drag that ends far outside the canvas clamps at the edges from where it started.
    seven = r["item7"]
    assert seven["outside"]["value"] == seven["lampValue"] and seven["outside"]["invalid"] == "true"
    assert "x1 = 600 px is outside the image: coordinates must be between 0 and 512 px" in seven["outside"]["message"], seven
    assert seven["past"]["value"] == seven["lampValue"] and seven["past"]["invalid"] == "true"
    assert "x1 = 400 must stay below x2 = 307.2" in seven["past"]["message"], seven
    assert json.loads(seven["valid"]["value"])[0]["box"] == [0.125, 0.18, 0.6, 0.98] and seven["valid"]["invalid"] is None
    for got, want in ((seven["upRight"], [0.5, 0.0, 1.0, 0.5]), (seven["downLeft"], [0.0, 0.5, 0.5, 1.0])):
        assert all(abs(g - w) < 0.01 for g, w in zip(got, want)), (got, want)

    # 8. Token counts per instance with the T5 tokenizer the loader uses; the long one is flagged as
    #    cut; above 30 boxes a note says DEIG was trained with up to 30.
    eight = r["item8"]
    long_count, short_count = _host_token_count(LONG_TEXT.strip()), _host_token_count("a red car")
    assert eight["rowCounts"] == [str(long_count), str(short_count)], (eight, long_count, short_count)
    assert long_count > 128 and "the rest is cut" in eight["rowTitle"]
    assert f"1 ({long_count}) exceeds 128 T5 tokens" in eight["note"], eight["note"]
    assert "40 boxes: DEIG was trained with up to 30" in eight["fortyNote"]

    # 11. Every model file the example names that is not on disk, with the folder it goes in.
    lines = r["item11"]
    expected = {"realisticVisionV60B1_v51VAE.safetensors": "checkpoints", "add_detail.safetensors": "loras",
                DEIG_RELEASE: "deig", "flan-t5-xl": "text_encoders"}
    assert len(lines) == len(expected), lines
    for name, folder in expected.items():
        line = next((ln for ln in lines if ln.startswith(name)), None)
        assert line is not None and f"/{folder}/" in line, (name, lines)

    for n in (1, 2, 3, 4, 6, 7, 8, 11):
        assert list(artifacts_dir.glob(f"item{n}_*_{mode}.png")), n
    assert all((artifacts_dir / f"item5_{name}_{mode}.png").is_file() for name in DESCRIPTIONS)
