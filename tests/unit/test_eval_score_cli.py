"""``deig_eval score`` as a benchmark user meets it, without loading a model: the flags a bench needs
(checked by argparse), one-line errors for a manifest of another bench, missing images and a folder of
strangers, the image-folder naming rule, the official resize, and tables with mean ± std over seeds."""
import json

import numpy as np
import pytest

from comfyui_deig.deig_core.layout import dump_layout
from comfyui_deig.deig_core.layout_files import parse_layout_document, read_layout_file
from comfyui_deig.deig_eval.__main__ import main as cli
from comfyui_deig.deig_eval.__main__ import parse_seeds
from comfyui_deig.deig_eval.score import images_of_folder, resize_like_cv2, seed_spread
from comfyui_deig.deig_eval.table import render_csv, render_markdown, render_table
from devkit.synthetic_layouts import mig_bench

from PIL import Image


@pytest.fixture
def mig(tmp_path):
    bench = mig_bench(3)
    (tmp_path / "mig.json").write_text(json.dumps(bench))
    return tmp_path / "mig.json"


def manifest_for(tmp_path, bench_path, make_images=True):
    f = read_layout_file(bench_path)
    (tmp_path / "run" / "images").mkdir(parents=True)
    lines = []
    for e in f.entries:
        name = f"images/{e.entry_id}_seed0.png"
        if make_images:
            Image.new("RGB", (64, 64)).save(tmp_path / "run" / name)
        lines.append({"entry_id": e.entry_id, "seed": 0, "file": name, "layout": dump_layout(e.instances)})
    (tmp_path / "run" / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return tmp_path / "run" / "manifest.jsonl"


@pytest.mark.parametrize("given, lacking", [([], "--grounding-dino, --sam"), (["--grounding-dino", "g"], "--sam")])
def test_argparse_names_the_model_flags_the_bench_needs(mig, tmp_path, capsys, given, lacking):
    with pytest.raises(SystemExit) as e:
        cli(["score", "--images", str(tmp_path), "--layouts", str(mig), *given])
    assert e.value.code == 2
    assert f"mig-bench is scored with --grounding-dino and --sam: give {lacking}" in capsys.readouterr().err


def test_argparse_refuses_a_file_that_is_no_bench(tmp_path, capsys):
    (tmp_path / "one.json").write_text(json.dumps([{"box": [0, 0, 1, 1], "text": "a cat"}]))
    with pytest.raises(SystemExit):
        cli(["score", "--images", str(tmp_path), "--layouts", str(tmp_path / "one.json"), "--clip", "c"])
    assert "is a layout file of format 'editor-json'; scoring needs a MIG-Bench" in capsys.readouterr().err


def test_a_manifest_made_from_another_bench_is_one_line_error(mig, tmp_path, capsys):
    manifest = manifest_for(tmp_path, mig)
    other = mig_bench(3)
    other["101"]["segment"][0]["bbox"] = [0.0, 0.0, 0.5, 0.5]  # same ids, another layout
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert cli(["score", "--manifest", str(manifest), "--layouts", str(tmp_path / "other.json"),
                "--grounding-dino", "nowhere", "--sam", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and "entry 101 was made from another layout" in err and "Traceback" not in err


def test_missing_images_are_counted_and_named(mig, tmp_path, capsys):
    manifest = manifest_for(tmp_path, mig, make_images=False)
    assert cli(["score", "--manifest", str(manifest), "--layouts", str(mig), "--grounding-dino", "g", "--sam", "s"]) == 2
    assert "3 image(s) missing, e.g." in capsys.readouterr().err


def test_missing_model_folder_is_one_line_error(mig, tmp_path, capsys):
    manifest = manifest_for(tmp_path, mig)
    assert cli(["score", "--manifest", str(manifest), "--layouts", str(mig), "--grounding-dino",
                str(tmp_path / "nowhere"), "--sam", "s"]) == 2
    assert "GroundingDINO: model folder" in capsys.readouterr().err


def test_image_folder_naming_rule(tmp_path):
    f = parse_layout_document(json.dumps({"a b": {"caption": "", "segment": [{"bbox": [0, 0, 1, 1], "label": "a red car"}]},
                                          "7": {"caption": "", "segment": [{"bbox": [0, 0, 1, 1], "label": "a red car"}]}}))
    for name in ("7_seed2.png", "7_seed10.jpg", "a_b_seed0.webp", "7.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    found = [(im.entry_id, im.seed, im.path.name) for im in images_of_folder(tmp_path, f)]
    assert found == [("a b", 0, "a_b_seed0.webp"), ("7", None, "7.png"), ("7", 2, "7_seed2.png"),
                     ("7", 10, "7_seed10.jpg")]
    (tmp_path / "8_seed0.png").write_bytes(b"")
    with pytest.raises(ValueError, match="1 image.s. name no entry of the layout file, e.g. 8_seed0.png"):
        images_of_folder(tmp_path, f)


def test_resize_is_bilinear_with_half_pixel_centres_like_cv2():
    # cv2.resize of [[0, 100]] (1 x 2) to 4 wide: x_src = (x + 0.5) / 2 - 0.5 -> -0.25, 0.25, 0.75, 1.25,
    # clamped at the borders: 0, 25, 75, 100
    image = Image.fromarray(np.array([[[0] * 3, [100] * 3], [[0] * 3, [100] * 3]], dtype=np.uint8))
    out = np.asarray(resize_like_cv2(image, 4))[0, :, 0]
    assert out.tolist() == [0, 25, 75, 100]
    # shrinking samples between pixels (no antialiasing): 4 -> 2 reads pixels 0.5 and 2.5 apart
    image = Image.fromarray(np.array([[0, 40, 80, 200]] * 4, dtype=np.uint8)).convert("RGB")
    assert np.asarray(resize_like_cv2(image, 2))[0, :, 0].tolist() == [20, 140]


def test_seed_spread_and_the_tables_show_mean_and_std():
    per_seed = {"0": {"benchmark": "instdiff-bench", "attribute_kind": "color", "attribute_accuracy": 0.5,
                      "attribute_clip": 0.2, "images": 2},
                "1": {"benchmark": "instdiff-bench", "attribute_kind": "color", "attribute_accuracy": 0.7,
                      "attribute_clip": 0.3, "images": 2}}
    mean, std = seed_spread(per_seed)
    assert mean["attribute_accuracy"] == pytest.approx(0.6) and std["attribute_accuracy"] == pytest.approx(0.1)
    fig = {**per_seed["0"], "images": 4, "attribute_accuracy": 0.6, "attribute_clip": 0.25, "per_seed": per_seed,
           "seed_mean": mean, "seed_std": std}
    text = render_table(fig)
    assert "60.0 ± 10.0" in text and "0.250 ± 0.050" in text and "seed 1" in text
    assert "| mean ± std (2 seeds) | 60.0 ± 10.0 | 0.250 ± 0.050 |" in render_markdown(fig)
    assert render_csv(fig).splitlines() == ["rows,Acc_c,CLIP_c", "all images,60.0,0.250", "seed 0,50.0,0.200",
                                            "seed 1,70.0,0.300", "mean ± std (2 seeds),60.0 ± 10.0,0.250 ± 0.050"]


@pytest.mark.parametrize("text", ["-1", "3-1", "x", "1-", str(2 ** 64)])
def test_bad_seed_lists_are_refused(text):
    with pytest.raises(Exception, match="seed"):
        parse_seeds(text)


def test_limit_must_be_positive(mig, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli(["score", "--images", str(tmp_path), "--layouts", str(mig), "--limit", "0"])
    assert "--limit: '0': give a whole number >= 1" in capsys.readouterr().err


def scored_run(tmp_path, scores):
    """What `score` writes for a MIG-Bench run with one instance per image: metrics, image and instance lines."""
    from comfyui_deig.deig_eval.metrics.boxes import InstanceOutcome
    from comfyui_deig.deig_eval.metrics.tally import MigTally

    tally, images, instances = MigTally(), [], []
    for k, score in enumerate(scores):
        path = tmp_path / f"{k}_seed0.png"
        Image.new("RGB", (64, 64), (40 * k, 80, 120)).save(path)
        images.append({"entry_id": str(k), "seed": 0, "file": str(path), "instances": 1, "score": score})
        instances.append({"entry_id": str(k), "seed": 0, "index": 0, "text": f"a red thing {k}", "box": [0.1, 0.1, 0.6, 0.9],
                          "located": score > 0, "attribute_right": score > 0, "iou": 0.7, "success": score > 0})
        tally.add_image([InstanceOutcome(score > 0, score > 0, 0.7)])
    (tmp_path / "metrics.json").write_text(json.dumps({"benchmark": "mig-bench", "source": "test", **tally.figures()}))
    for name, lines in (("images", images), ("instances", instances)):
        (tmp_path / f"metrics.{name}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return tmp_path / "metrics.json"


def test_report_shows_the_table_samples_and_the_worst_and_best(tmp_path, capsys):
    metrics = scored_run(tmp_path, [1.0, 0.0, 1.0, 0.0, 1.0])
    assert cli(["report", "--metrics", str(metrics), "--samples", "3", "--extremes", "2"]) == 0
    page = (tmp_path / "report.html").read_text()
    assert "MIG-Bench (5 images)" in page and "<th>ISR avg</th>" in page and "<td>60.0</td>" in page
    captions = [c.split("<")[0] for c in page.split("<figcaption>")[1:]]
    assert captions == ["entry 0 seed 0: 100%", "entry 1 seed 0: 0%", "entry 2 seed 0: 100%",  # samples
                        "entry 1 seed 0: 0%", "entry 3 seed 0: 0%",  # worst, ties in file order
                        "entry 0 seed 0: 100%", "entry 2 seed 0: 100%"]  # best
    assert page.count("data:image/jpeg;base64,") == 7 and "a red thing 1: not located" in page
    assert cli(["report", "--metrics", str(metrics), "--out", str(tmp_path / "page.md")]) == 0
    md = (tmp_path / "page.md").read_text()
    assert "| all images | " in md and "![entry 4 seed 0: 100%](page_files/4_seed0.jpg)" in md
    drawn = np.asarray(Image.open(tmp_path / "page_files" / "4_seed0.jpg"))
    assert drawn.shape == (256, 256, 3) and (np.abs(drawn.astype(int) - (160, 80, 120)).sum(-1) > 60).any()  # boxes


def test_report_without_scores_is_one_line_error(tmp_path, capsys):
    assert cli(["report", "--metrics", str(tmp_path / "metrics.json")]) == 2
    assert "run `python -m deig_eval score` first" in capsys.readouterr().err
