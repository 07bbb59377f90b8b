"""The whole scoring path (``deig_eval.score``) on tiny random-weight GroundingDINO, SAM, CLIP and
Qwen2.5-VL folders built by the tests: a run's manifest and images in, the paper's figures out, every
figure in range. One layout box per bench is set to where the tiny detector finds its phrase, so the
located branch (SAM + colour check, Qwen judge) runs too. The CLIP figures are checked against CLIP called
directly on crops and channel-swapped images made here. Prints the scoring time per image."""
import copy
import hashlib
import json
import time

import numpy as np
import pytest
from PIL import Image

from comfyui_deig.deig_core.layout_files import read_layout_file
from comfyui_deig.deig_eval.__main__ import main as cli
from comfyui_deig.deig_eval.metrics.clip_templates import IMAGENET_TEMPLATES
from comfyui_deig.deig_eval.score import EVAL_SIZE, Judges, ModelPaths, open_eval_image, score_run
from devkit.synthetic_layouts import mig_bench
from devkit.paths import REPO_ROOT
from devkit.tiny_judges import build_tiny_judges


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    paths = build_tiny_judges(REPO_ROOT / ".cache" / "tiny_judges")
    return ModelPaths(**{k: str(v) for k, v in paths.items()})


def fake_run(out, entry_ids, seed=3):
    """A run folder as ``deig_eval run`` leaves it: images/ and manifest.jsonl."""
    (out / "images").mkdir(parents=True)
    rng = np.random.RandomState(0)
    lines = []
    for i, entry_id in enumerate(entry_ids):
        name = f"images/{entry_id}_seed{seed}.png"
        Image.fromarray(rng.randint(0, 255, (64, 64, 3), dtype=np.uint8)).save(out / name)
        lines.append({"entry_id": entry_id, "seed": seed, "server": "http://x", "prompt_id": str(i), "file": name,
                      "sha256": hashlib.sha256((out / name).read_bytes()).hexdigest()})
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return out / "manifest.jsonl"


def detected_box(judges, image_path, phrase):
    boxes = judges.detector.detect(open_eval_image(image_path), phrase)
    assert len(boxes), "the tiny detector finds nothing; change its seed"
    return [float(np.clip(v / EVAL_SIZE, 0, 1)) for v in boxes[0]]


def in_unit_range(values):
    return all(v is None or 0.0 <= v <= 1.0 for v in values)


def _hand_iou(a, b) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes, written out."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


RED, BLUE = (255, 0, 0), (0, 0, 255)


def test_mig_bench_scoring_end_to_end(tiny, tmp_path, capsys):
    """A constructed run whose figures can be worked out by hand: solid red or blue images (so the colour
    check passes exactly for the image's colour, whatever segment SAM returns), and layout boxes that are
    either one of the tiny detector's own boxes (located) or boxes no detection overlaps by half (not)."""
    judges = Judges("mig-bench", tiny)
    run = tmp_path / "run"
    (run / "images").mkdir(parents=True)
    # entry id -> image colour, [(label, where)]: "det" = the detector's first box for the thing, else a box
    plan = {"200": (RED, [("a red car", "det"), ("a blue car", "det")]),           # L2: success, wrong colour
            "201": (BLUE, [("a blue dog", "det"), ("a blue car", "det"), ("a blue apple", [0.0, 0.0, 0.3, 0.3])]),
            "202": (RED, [("a red dog", [0.0, 0.0, 1.0, 1.0]), ("a red apple", [0.5, 0.0, 1.0, 0.2])]),
            "203": (BLUE, [("a blue car", "det"), ("a blue dog", "det")])}             # L2: both succeed
    bench, manifest, expected = {}, [], []  # expected: (level, success, iou) per instance, by hand
    for n, (entry_id, (colour, items)) in enumerate(plan.items()):
        name = f"images/{entry_id}_seed3.png"
        Image.new("RGB", (64, 64), colour).save(run / name)
        image = open_eval_image(run / name)
        segments = []
        for label, where in items:
            thing = label.split(" ", 2)[2]
            detections = [list(map(float, d)) for d in judges.detector.detect(image, thing)]
            assert detections, f"the tiny detector finds no {thing}; change its seed"
            box = [v / EVAL_SIZE for v in detections[0]] if where == "det" else where
            assert all(0.0 <= v <= 1.0 for v in box), "a detection outside the image: pick another"
            best = max(_hand_iou(d, [v * EVAL_SIZE for v in box]) for d in detections)
            located = best >= 0.5
            assert located == (where == "det"), (entry_id, label, best)
            right_colour = label.split(" ")[1] == {RED: "red", BLUE: "blue"}[colour]
            expected.append((f"L{len(items)}", located and right_colour, best if located and right_colour or
                             not located else 0.0))
            segments.append({"bbox": box, "label": label})
        bench[entry_id] = {"caption": "a photo of " + " and ".join(label for label, _ in items),
                           "segment": segments, "image_id": str(n)}
        manifest.append({"entry_id": entry_id, "seed": 3, "server": "http://x", "prompt_id": str(n), "file": name,
                         "sha256": hashlib.sha256((run / name).read_bytes()).hexdigest()})
    (run / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in manifest))
    (tmp_path / "mig.json").write_text(json.dumps(bench))

    started = time.monotonic()
    fig = score_run(run / "manifest.jsonl", tmp_path / "mig.json", tiny, judges=judges)
    per_image = (time.monotonic() - started) / len(plan)

    # by hand: L2 has 3 images (200, 202, 203) with 6 instances, 3 successes (200's red car, 203's two);
    # L3 has 1 image (201) with 3 instances, 2 successes (the apple's box is not located)
    assert fig["instance_success_rate"] == {"L2": 3 / 6, "L3": 2 / 3, "L4": None, "L5": None, "L6": None,
                                            "all": 5 / 9}
    assert fig["image_success_rate"] == {"L2": 1 / 3, "L3": 0.0, "L4": None, "L5": None, "L6": None,
                                         "all": 1 / 4}
    for level in ("L2", "L3", "all"):
        ious = [iou for lv, _, iou in expected if level in (lv, "all")]
        assert fig["miou"][level] == pytest.approx(sum(ious) / len(ious), abs=1e-9), level
    assert fig["miou"]["L2"] == pytest.approx((1 + 0 + expected[5][2] + expected[6][2] + 1 + 1) / 6, abs=1e-6)
    assert fig["images"] == 4 and fig["benchmark"] == "mig-bench"
    assert isinstance(fig["clip_score"], float) and np.isfinite(fig["local_clip_score"])
    assert fig["clip_bgr_as_official"] is False
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["miou"] == fig["miou"] and "ISR L2" in saved["table"]
    with capsys.disabled():
        print(f"\nscoring MIG-Bench, tiny models, CPU: {per_image:.2f} s/image")


def test_deig_bench_scoring_through_the_cli(tiny, tmp_path, capsys):
    src = REPO_ROOT / "tests" / "fixtures" / "deig_bench_sample.json"
    data = json.loads(src.read_text())
    ids = [e.entry_id for e in read_layout_file(src).entries]
    manifest = fake_run(tmp_path / "run", ids)
    judges = Judges("deig-bench", ModelPaths(grounding_dino=tiny.grounding_dino, qwen=tiny.qwen))
    data = copy.deepcopy(data)
    inst = data["results"][0]["instances"][0]
    inst["bbox"] = detected_box(judges, tmp_path / "run" / "images" / f"{ids[0]}_seed3.png", inst["category"])
    (tmp_path / "deig.json").write_text(json.dumps(data))
    out = tmp_path / "deig_metrics.json"
    assert cli(["score", "--manifest", str(manifest), "--bench", str(tmp_path / "deig.json"),
                "--grounding-dino", tiny.grounding_dino, "--qwen", tiny.qwen, "--clip", tiny.clip,
                "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "MAA_human C1" in printed and "MAA_obj L4" in printed and "Local CLIP" in printed
    fig = json.loads(out.read_text())
    assert fig["images"] == len(ids) and in_unit_range([*fig["maa_human"].values(), *fig["maa_object"].values()])
    assert 0.0 < fig["miou"] <= 1.0 and fig["maa_human"]["all"] is not None
    assert np.isfinite(fig["clip_score"]) and np.isfinite(fig["local_clip_score"])


@pytest.fixture(scope="module")
def mig_two_images(tiny, tmp_path_factory):
    """MIG-Bench judges with CLIP, and a two-image run whose second entry has a box thinner than a pixel."""
    root = tmp_path_factory.mktemp("mig_clip")
    bench = mig_bench(2)
    bench["101"]["segment"][0]["bbox"] = [0.5, 0.3, 0.50015, 0.9]  # columns 256.0 .. 256.08
    (root / "mig.json").write_text(json.dumps(bench))
    return Judges("mig-bench", tiny), fake_run(root / "run", list(bench)), root / "mig.json", bench


def eval_image(manifest, entry_id):
    return open_eval_image(manifest.parent / f"images/{entry_id}_seed3.png")


def test_local_clip_is_the_mean_over_instance_crops(mig_two_images):
    judges, manifest, bench_path, bench = mig_two_images
    fig = score_run(manifest, bench_path, ModelPaths(), judges=judges, limit=1, out_json=manifest.parent / "one.json")
    pixels = np.asarray(eval_image(manifest, "100"))
    expected = []
    for seg in bench["100"]["segment"]:  # rows int(512 y1):int(512 y2), columns int(512 x1):int(512 x2)
        x1, y1, x2, y2 = (int(EVAL_SIZE * v) for v in seg["bbox"])
        crop = Image.fromarray(pixels[y1:y2, x1:x2]).resize((EVAL_SIZE, EVAL_SIZE), Image.BILINEAR)
        expected.append(judges.clip.score(crop, [t.format(seg["label"]) for t in IMAGENET_TEMPLATES]))
    assert len(expected) == 2 and expected[0] != expected[1]
    assert fig["local_clip_score"] == pytest.approx(np.mean(expected), rel=1e-6)


def test_bgr_flag_swaps_clip_channels_only(mig_two_images):
    judges, manifest, bench_path, bench = mig_two_images
    rgb = score_run(manifest, bench_path, ModelPaths(), judges=judges, out_json=manifest.parent / "rgb.json")
    bgr = score_run(manifest, bench_path, ModelPaths(), judges=judges, out_json=manifest.parent / "bgr.json",
                    clip_bgr_as_official=True)
    swapped = [Image.fromarray(np.asarray(eval_image(manifest, k))[..., ::-1].copy()) for k in bench]
    expected = np.mean([judges.clip.score(im, [bench[k]["caption"]]) for im, k in zip(swapped, bench)])
    assert bgr["clip_score"] == pytest.approx(expected, rel=1e-6) and bgr["clip_score"] != rgb["clip_score"]
    assert np.isfinite(bgr["local_clip_score"]) and bgr["local_clip_score"] != rgb["local_clip_score"]
    assert (bgr["clip_bgr_as_official"], rgb["clip_bgr_as_official"]) == (True, False)
    for key in ("instance_success_rate", "miou", "image_success_rate"):
        assert bgr[key] == rgb[key]


def test_missing_model_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="GroundingDINO: model folder .*nowhere"):
        Judges("mig-bench", ModelPaths(grounding_dino=str(tmp_path / "nowhere")))
