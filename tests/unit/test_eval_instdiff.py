"""InstDiff-Bench (Table 3): the layout file built from a small COCO-format pair of files written here
(expected attributes and captions written out by hand), and its scoring: through the command line with
the tiny random CLIP (the figures are the mean of per-image means of CLIP called directly), and on a
constructed case whose answers are known."""
import json

import numpy as np
import pytest

from comfyui_deig.deig_core.layout_files import read_layout_file
from comfyui_deig.deig_eval.__main__ import main as cli
from comfyui_deig.deig_eval.instdiff_bench import CocoError, build_instdiff_bench
from comfyui_deig.deig_eval.score import AttributeChoices, ModelPaths, attribute_binding, score_run
from devkit.paths import REPO_ROOT
from devkit.tiny_judges import build_tiny_judges

pytest.importorskip("transformers")
import torch  # noqa: E402
from PIL import Image  # noqa: E402

CATEGORIES = [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}, {"id": 3, "name": "car"}]
IMAGES = [{"id": 42, "file_name": "000000000042.jpg", "width": 200, "height": 100},
          {"id": 7, "file_name": "000000000007.jpg", "width": 100, "height": 50},
          {"id": 9, "file_name": "000000000009.jpg", "width": 64, "height": 64}]  # no annotation: left out
ANNOTATIONS = [  # file order is what counts, not id order
    {"id": 10, "image_id": 42, "category_id": 18, "bbox": [20, 10, 100, 50], "iscrowd": 0},
    {"id": 17, "image_id": 7, "category_id": 1, "bbox": [10, 5, 50, 40], "iscrowd": 0},
    {"id": 3, "image_id": 42, "category_id": 1, "bbox": [0, 0, 200, 100], "iscrowd": 1},  # crowd: kept
    {"id": 24, "image_id": 7, "category_id": 3, "bbox": [0, 25, 100, 25], "iscrowd": 0},
]
CAPTIONS = [{"id": 1, "image_id": 7, "caption": "A man by a car."},
            {"id": 2, "image_id": 42, "caption": "A dog in a field"},
            {"id": 3, "image_id": 7, "caption": "Second caption, not used."},
            {"id": 4, "image_id": 9, "caption": "Nothing annotated."}]


def write_coco(root, annotations=ANNOTATIONS, captions=CAPTIONS):
    (root / "instances.json").write_text(json.dumps({"images": IMAGES, "annotations": annotations,
                                                     "categories": CATEGORIES}))
    (root / "captions.json").write_text(json.dumps({"images": IMAGES, "annotations": captions}))
    return root / "instances.json", root / "captions.json"


def test_colour_bench_by_hand(tmp_path):
    bench = build_instdiff_bench(*write_coco(tmp_path), "color")
    assert bench["benchmark"] == "instdiff-bench" and bench["attribute_kind"] == "color"
    assert [e["image_id"] for e in bench["results"]] == [7, 42]  # by image id; image 9 has no annotation
    seven, forty_two = bench["results"]
    # ids 17 % 8 = 1 white, 24 % 8 = 0 black, 10 % 8 = 2 red, 3 % 8 = 3 green
    assert [i["description"] for i in seven["instances"]] == ["white person", "black car"]
    assert [i["description"] for i in forty_two["instances"]] == ["red dog", "green person"]
    assert seven["caption"] == "A man by a car.white person, black car"  # first caption + phrases, no space
    assert forty_two["caption"] == "A dog in a fieldred dog, green person"
    assert seven["instances"][0]["bbox"] == [0.1, 0.1, 0.6, 0.9]  # [10/100, 5/50, 60/100, 45/50]
    assert seven["instances"][1]["bbox"] == [0.0, 0.5, 1.0, 1.0]
    assert forty_two["instances"][0]["bbox"] == [0.1, 0.1, 0.6, 0.6]
    assert forty_two["instances"][1]["attribute"] == "green" and forty_two["instances"][1]["category"] == "person"


def test_texture_bench_by_hand(tmp_path):
    bench = build_instdiff_bench(*write_coco(tmp_path), "texture")
    # 17 % 8 = 1 fluffy, 24 % 8 = 0 rubber, 10 % 8 = 2 metallic, 3 % 8 = 3 wooden
    assert [[i["description"] for i in e["instances"]] for e in bench["results"]] == [
        ["fluffy person", "rubber car"], ["metallic dog", "wooden person"]]
    assert bench["results"][0]["caption"] == "A man by a car.fluffy person, rubber car"


def test_at_most_30_instances_but_every_phrase_in_the_caption(tmp_path):
    many = [{"id": 100 + k, "image_id": 42, "category_id": 18, "bbox": [k, 0, 5, 5], "iscrowd": 0} for k in range(33)]
    bench = build_instdiff_bench(*write_coco(tmp_path, annotations=many), "color")
    entry = bench["results"][0]
    assert len(entry["instances"]) == 30 and [i["annotation_id"] for i in entry["instances"]] == list(range(100, 130))
    assert entry["caption"].count(" dog, ") == 32 and entry["caption"].endswith(", yellow dog")  # id 132: 132 % 8 = 4


def test_the_file_reads_as_an_instdiff_bench_layout_file(tmp_path):
    bench = build_instdiff_bench(*write_coco(tmp_path), "color")
    (tmp_path / "bench.json").write_text(json.dumps(bench))
    f = read_layout_file(tmp_path / "bench.json")
    assert f.format == "instdiff-bench" and [e.entry_id for e in f.entries] == ["7", "42"]
    assert f.entries[0].instances[0].text == "white person" and f.entries[0].instances[0].box == (0.1, 0.1, 0.6, 0.9)


def test_a_captions_file_of_another_split_is_named(tmp_path):
    with pytest.raises(CocoError, match="no caption for image 42"):
        build_instdiff_bench(*write_coco(tmp_path, captions=CAPTIONS[:1]), "color")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(CocoError, match="bad.json is not a COCO annotation file"):
        build_instdiff_bench(tmp_path / "bad.json", tmp_path / "captions.json", "color")


@pytest.fixture(scope="module")
def tiny_clip():
    return str(build_tiny_judges(REPO_ROOT / ".cache" / "tiny_judges")["clip"])


def test_scoring_a_folder_through_the_cli_with_tiny_clip(tmp_path, tiny_clip, capsys):
    ins, caps = write_coco(tmp_path)
    assert cli(["instdiff-bench", "--instances", str(ins), "--captions", str(caps), "--attribute", "color",
                "--out", str(tmp_path / "bench.json")]) == 0
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.RandomState(1)
    for name in ("7_seed0", "7_seed1", "42_seed0", "42_seed1"):
        Image.fromarray(rng.randint(0, 255, (64, 64, 3), dtype=np.uint8)).save(images / f"{name}.png")
    assert cli(["score", "--images", str(images), "--layouts", str(tmp_path / "bench.json"), "--clip", tiny_clip,
                "--device", "cpu", "--json", str(tmp_path / "m.json")]) == 0
    assert "Acc_c" in capsys.readouterr().out
    fig = json.loads((tmp_path / "m.json").read_text())
    lines = [json.loads(x) for x in (tmp_path / "m.instances.jsonl").read_text().splitlines()]
    assert fig["images"] == 4 and len(lines) == 8 and all(0 <= x["clip"] ** 2 <= 1 for x in lines)
    # by hand from the lines: mean over an image's instances, then over images
    per_image = {}
    for x in lines:
        per_image.setdefault((x["entry_id"], x["seed"]), []).append(x)
    acc = np.mean([np.mean([x["correct"] for x in v]) for v in per_image.values()])
    cos = np.mean([np.mean([x["clip"] for x in v]) for v in per_image.values()])
    assert fig["attribute_accuracy"] == pytest.approx(acc) and fig["attribute_clip"] == pytest.approx(cos)
    # and the lines agree with CLIP called directly on the plain crop of one instance
    from comfyui_deig.deig_eval.metrics.models import ClipScorer
    clip = ClipScorer(tiny_clip, torch.device("cpu"))
    image = Image.open(images / "7_seed0.png").convert("RGB")
    crop = image.crop((0.1 * 64, 0.1 * 64, 0.6 * 64, 0.9 * 64))
    expected = float((clip.image_features([crop]) * clip.text_features(["white person"])).sum())
    first = next(x for x in lines if (x["entry_id"], x["seed"], x["index"]) == ("7", 0, 0))
    assert first["clip"] == pytest.approx(expected, abs=1e-5) and first["attribute"] == "white"
    assert set(fig["per_seed"]) == {"0", "1"}
    assert fig["seed_mean"]["attribute_clip"] == pytest.approx(np.mean([f["attribute_clip"]
                                                                        for f in fig["per_seed"].values()]))
    md = (tmp_path / "m.md").read_text()
    assert "| Acc_c | CLIP_c |" in md and "mean ± std (2 seeds)" in md
    assert (tmp_path / "m.csv").read_text().splitlines()[0] == "rows,Acc_c,CLIP_c"


class ColourClip:
    """A stand-in for CLIP whose answers are known: an image's embedding is its mean colour, a text's the
    colour its words name; so a crop's zero-shot attribute is its colour, and its cosine with its phrase
    is known in closed form."""
    RGB = {"black": (0.01, 0.01, 0.01), "white": (1, 1, 1), "red": (1, 0, 0), "green": (0, 1, 0),
           "yellow": (1, 1, 0), "blue": (0, 0, 1), "pink": (1, 0.75, 0.8), "purple": (0.5, 0, 0.5)}

    def image_features(self, images):
        x = torch.tensor(np.array([np.asarray(im, dtype=np.float64).reshape(-1, 3).mean(0) / 255 + 1e-3 for im in images]))
        return x / x.norm(dim=-1, keepdim=True)

    def text_features(self, texts):
        x = torch.tensor([next(self.RGB[w] for w in t.split() if w in self.RGB) for t in texts], dtype=torch.float64)
        return x / x.norm(dim=-1, keepdim=True)


class Judged:
    clip = ColourClip()
    device = "cpu"


def test_constructed_case_scores_known_answers(tmp_path):
    """Image 7 (100 x 50): a red dog asked for on the left half (painted red: right), a white car on the
    right half (painted blue: chosen blue, wrong), and a box 0.2 px wide that crops no pixel (skipped)."""
    annotations = [{"id": 10, "image_id": 7, "category_id": 18, "bbox": [0, 0, 50, 50], "iscrowd": 0},
                   {"id": 17, "image_id": 7, "category_id": 3, "bbox": [50, 0, 50, 50], "iscrowd": 0},
                   {"id": 25, "image_id": 7, "category_id": 1, "bbox": [10, 10, 0.2, 0.2], "iscrowd": 0}]
    ins, caps = write_coco(tmp_path, annotations=annotations)
    (tmp_path / "bench.json").write_text(json.dumps(build_instdiff_bench(ins, caps, "color")))
    layout = read_layout_file(tmp_path / "bench.json")
    pixels = np.zeros((50, 100, 3), dtype=np.uint8)
    pixels[:, :50] = (255, 0, 0)
    pixels[:, 50:] = (0, 0, 255)
    (tmp_path / "images").mkdir()
    Image.fromarray(pixels).save(tmp_path / "images" / "7.png")
    lines = attribute_binding(Image.fromarray(pixels), layout.by_id()["7"], Judged,
                              AttributeChoices.of(Judged.clip, layout))
    assert [(x["attribute"], x["predicted"], x["correct"]) for x in lines[:2]] == [("red", "red", True),
                                                                                 ("white", "blue", False)]
    assert lines[0]["clip"] == pytest.approx(1.0, abs=1e-2) and lines[1]["clip"] == pytest.approx(3 ** -0.5, abs=1e-2)
    assert lines[2] == {"skipped": "the box crops no pixel"}
    fig = score_run(None, tmp_path / "bench.json", ModelPaths(), judges=Judged, images_dir=tmp_path / "images",
                    out_json=tmp_path / "m.json")
    assert fig["images"] == 1 and fig["attribute_accuracy"] == 0.5
    assert fig["attribute_clip"] == pytest.approx((1 + 3 ** -0.5) / 2, abs=1e-2)
