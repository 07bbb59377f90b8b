"""Score images against a layout file with the paper's metrics, into its tables.

The images come from a run's manifest (``--manifest``) or from any folder (``--images``, images made
elsewhere) named by :data:`IMAGE_NAME_RULE`. Which metrics follow from the layout file:

* MIG-Bench (Table 2): GroundingDINO + SAM + colour check; DEIG-Bench (Table 1): GroundingDINO + Qwen2.5-VL.
  Both judge the image at 512x512 (resized as the official scripts do, see :func:`open_eval_image`) with
  the layout boxes in pixels; CLIP is optional and adds the CLIP score (image with caption) and the local
  CLIP score (each instance's crop with its description: DEIG-Bench ``description``, MIG-Bench ``label``).
* InstDiff-Bench (Table 3): CLIP only, on the image as it is: each box cropped (plain crop), its cosine
  with the instance's phrase, and whether the zero-shot choice among "a <attribute> object" is the
  instance's attribute; averaged over an image's instances, then over images.

Beside ``metrics.json`` (figures, tables) it writes ``<stem>.images.jsonl`` and ``<stem>.instances.jsonl``
(one line per image and per instance, what the figures are tallied from) and the table as ``<stem>.md``
and ``<stem>.csv``. With several seeds the figures also come per seed, with their mean and standard
deviation over the seeds.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ._core import LayoutEntry, LayoutFile, dump_layout, read_layout_file
from .instdiff_bench import ATTRIBUTES, attribute_kind, attribute_prompts
from .manifest import read_jsonl
from .metrics.boxes import InstanceOutcome, located_outcome
from .metrics.color import color_matches, split_mig_label
from .metrics.tally import AttributeBindingTally, DeigTally, MigTally
from .table import render_csv, render_markdown, render_table

log = logging.getLogger(__name__)
EVAL_SIZE = 512
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
IMAGE_NAME_RULE = ("<entry id>_seed<seed>.<png|jpg|jpeg|webp> (what `run` writes), or <entry id>.<ext> for an "
                   "image without a seed; in the entry id every run of characters other than letters, digits, "
                   "'_', '.' and '-' is written '_'")
# the judging models each benchmark needs (ModelPaths field -> command-line flag)
NEEDED_MODELS = {"mig-bench": {"grounding_dino": "--grounding-dino", "sam": "--sam"},
                 "deig-bench": {"grounding_dino": "--grounding-dino", "qwen": "--qwen"},
                 "instdiff-bench": {"clip": "--clip"}}


class ScoreError(ValueError):
    """Images or files that cannot be scored together; the message says which and what to do."""


@dataclass(frozen=True)
class ModelPaths:
    grounding_dino: str | None = None
    sam: str | None = None
    clip: str | None = None
    qwen: str | None = None


@dataclass(frozen=True)
class ImageToScore:
    entry_id: str
    seed: int | None
    path: Path


class Judges:
    """The models one benchmark needs, loaded once."""

    def __init__(self, bench_format: str, paths: ModelPaths, device=None):
        from .metrics import models

        self.device = models.pick_device(device)
        located = bench_format in ("mig-bench", "deig-bench")
        self.detector = models.Detector(paths.grounding_dino, self.device) if located else None
        self.segmenter = models.Segmenter(paths.sam, self.device) if bench_format == "mig-bench" else None
        self.judge = models.Judge(paths.qwen, self.device) if bench_format == "deig-bench" else None
        self.clip = models.ClipScorer(paths.clip, self.device) if paths.clip or not located else None


def safe_entry_id(entry_id: str) -> str:
    """The entry id as image file names carry it (``run`` writes ``<safe id>_seed<n>.png``)."""
    return re.sub(r"[^\w.-]+", "_", entry_id)[:100]


def resize_like_cv2(image: Image.Image, size: int) -> Image.Image:
    """``cv2.resize(image, (size, size))`` (bilinear, half-pixel centres, no antialiasing), what the official
    scripts do to an image that is not 512 high; Pillow's own resize filters differ when shrinking."""
    import torch

    x = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    y = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return Image.fromarray(y[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy())


def open_eval_image(path: Path) -> Image.Image:
    """The image as the MIG-/DEIG-Bench scorers judge it: RGB, EVAL_SIZE x EVAL_SIZE."""
    image = Image.open(path).convert("RGB")
    return image if image.height == EVAL_SIZE and image.width == EVAL_SIZE else resize_like_cv2(image, EVAL_SIZE)


def _pixels(box) -> np.ndarray:
    return np.asarray(box, dtype=np.float64) * EVAL_SIZE


def mig_outcomes(image, entry: LayoutEntry, judges: Judges) -> list[InstanceOutcome]:
    rgb = np.asarray(image)
    out = []
    for inst in entry.instances:
        colour, thing = split_mig_label(inst.text)
        box = _pixels(inst.box)
        located, best = located_outcome(judges.detector.detect(image, thing), box)
        if not located:
            out.append(InstanceOutcome(False, False, best))
            continue
        right = color_matches(rgb, judges.segmenter.segment(image, box), colour)
        out.append(InstanceOutcome(True, right, best if right else 0.0))
    return out


def deig_outcomes(image, entry: LayoutEntry, judges: Judges) -> list[InstanceOutcome]:
    out = []
    for inst, raw in zip(entry.instances, entry.raw["instances"]):
        box = _pixels(inst.box)
        category = raw.get("category") or inst.text
        located, best = located_outcome(judges.detector.detect(image, category), box)
        # the box in float pixels, as the official script hands it to PIL (which rounds, not truncates)
        agrees = located and judges.judge.agrees(image.crop(tuple(float(v) for v in box)), inst.text)
        out.append(InstanceOutcome(located, agrees, best))
    return out


def attribute_binding(image, entry: LayoutEntry, judges: Judges, choices) -> list[dict]:
    """Table 3 for one image: per instance the plain crop of its box (float pixels, which Pillow rounds,
    as the original), the CLIP cosine of crop and phrase, and the zero-shot attribute choice against the
    unit text embeddings ``choices`` (one per attribute, in the file's order). A box whose crop has no
    pixel is skipped, as the original skips it."""
    attributes = entry_attributes(entry)
    kept, crops = [], []
    out = [{} for _ in entry.instances]
    for i, inst in enumerate(entry.instances):
        x1, y1, x2, y2 = inst.box
        crop = image.crop((x1 * image.width, y1 * image.height, x2 * image.width, y2 * image.height))
        if crop.width == 0 or crop.height == 0:
            out[i] = {"skipped": "the box crops no pixel"}
            continue
        kept.append(i)
        crops.append(crop)
    if not kept:
        return out
    image_feats = judges.clip.image_features(crops)
    text_feats = judges.clip.text_features([entry.instances[i].text for i in kept])
    cosines = (image_feats * text_feats).sum(-1).tolist()
    predicted = (image_feats @ choices.features.T).argmax(-1).tolist()
    names = choices.names
    for i, cos, pred in zip(kept, cosines, predicted):
        out[i] = {"attribute": attributes[i], "clip": cos, "predicted": names[pred],
                  "correct": names[pred] == attributes[i]}
    return out


def entry_attributes(entry: LayoutEntry) -> list[str]:
    return [raw.get("attribute") for raw in entry.raw["instances"]]


@dataclass(frozen=True)
class AttributeChoices:
    """The zero-shot choices of an InstDiff-Bench file: the attributes and the unit text embeddings of
    "a <attribute> object" (one row each, same order)."""
    names: list[str]
    features: object  # torch.Tensor (N, D)

    @classmethod
    def of(cls, clip, layout_file: LayoutFile) -> "AttributeChoices":
        kind = attribute_kind(layout_file)
        return cls(list(ATTRIBUTES[kind]), clip.text_features(attribute_prompts(kind)))


def add_clip_scores(clip, image, entry: LayoutEntry, image_line: dict, instance_lines: list[dict],
                    bgr_as_official: bool = False) -> None:
    """The image's CLIP score and each instance's local CLIP score, into their lines. ``bgr_as_official``:
    give CLIP the image with red and blue swapped, as the official scripts do (they read images with cv2,
    in BGR order)."""
    if bgr_as_official:
        image = Image.merge("RGB", image.split()[::-1])
    image_line["clip"] = clip.score(image, [entry.caption])
    for inst, line in zip(entry.instances, instance_lines):
        line["local_clip"] = clip.instance_score(image, inst.box, inst.text)


def _outcome_line(o: InstanceOutcome) -> dict:
    return {"located": bool(o.located), "attribute_right": bool(o.attribute), "iou": float(o.iou),
            "success": bool(o.success)}


def score_image(item: ImageToScore, entry: LayoutEntry, fmt: str, judges: Judges, choices=None,
                clip_bgr_as_official: bool = False) -> tuple[dict, list[dict]]:
    """(image line, instance lines) of one image."""
    if fmt == "instdiff-bench":
        details = attribute_binding(Image.open(item.path).convert("RGB"), entry, judges, choices)
    else:
        image = open_eval_image(item.path)
        outcomes = (mig_outcomes if fmt == "mig-bench" else deig_outcomes)(image, entry, judges)
        details = [_outcome_line(o) for o in outcomes]
    lines = [{"entry_id": entry.entry_id, "seed": item.seed, "index": i, "text": inst.text,
              "box": [round(v, 6) for v in inst.box], **d} for i, (inst, d) in enumerate(zip(entry.instances, details))]
    image_line = {"entry_id": entry.entry_id, "seed": item.seed, "file": str(item.path.resolve()),
                  "instances": len(lines)}
    if fmt != "instdiff-bench" and judges.clip is not None:
        add_clip_scores(judges.clip, image, entry, image_line, lines, clip_bgr_as_official)
    image_line["score"] = image_score(fmt, lines)
    return image_line, lines


def image_score(fmt: str, lines: list[dict]) -> float | None:
    """One number per image to rank images by (the report's worst and best): the share of its instances
    that succeed (MIG-/DEIG-Bench), or its attribute accuracy (InstDiff-Bench)."""
    key = "correct" if fmt == "instdiff-bench" else "success"
    values = [line[key] for line in lines if key in line]
    return sum(values) / len(values) if values else None


def new_tally(fmt: str, layout_file: LayoutFile):
    if fmt == "mig-bench":
        return MigTally()
    if fmt == "deig-bench":
        return DeigTally()
    return AttributeBindingTally(attribute_kind(layout_file))


def tally_image(tally, fmt: str, entry: LayoutEntry, image_line: dict, lines: list[dict]) -> None:
    """Count one image's lines (as written to the JSON Lines files) into a tally."""
    if fmt == "instdiff-bench":
        scored = [line for line in lines if "clip" in line]
        tally.add_image([line["clip"] for line in scored], [line["correct"] for line in scored])
        return
    outcomes = [InstanceOutcome(line["located"], line["attribute_right"], line["iou"]) for line in lines]
    if fmt == "mig-bench":
        tally.add_image(outcomes)
    else:
        tally.add_image(outcomes, [raw.get("eval_info") for raw in entry.raw["instances"]])
    if "clip" in image_line:
        tally.clip.per_image.add(image_line["clip"])
        for line in lines:
            tally.clip.per_instance.add(line["local_clip"])


def _leaves(fig, path=()):
    if isinstance(fig, dict):
        for k, v in fig.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(fig, (int, float)) and not isinstance(fig, bool):
        yield path, float(fig)


def _put(tree: dict, path, value) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def seed_spread(per_seed: dict[str, dict]) -> tuple[dict, dict]:
    """Mean and standard deviation (numpy's, ddof 0) over seeds of every figure, where the seeds have it."""
    values = defaultdict(list)
    for fig in per_seed.values():
        for path, v in _leaves(fig):
            values[path].append(v)
    mean, std = {}, {}
    for path, vs in values.items():
        _put(mean, path, float(np.mean(vs)))
        _put(std, path, float(np.std(vs)))
    return mean, std


def images_of_manifest(manifest: Path) -> tuple[list[ImageToScore], list[dict]]:
    """The images a run's manifest lists, and its lines."""
    if not manifest.is_file():
        raise ScoreError(f"manifest {manifest} does not exist (a run writes manifest.jsonl in its --out folder)")
    records = read_jsonl(manifest)
    return [ImageToScore(str(r["entry_id"]), r.get("seed"), manifest.parent / r["file"]) for r in records], records


def images_of_folder(folder: Path, layout_file: LayoutFile) -> list[ImageToScore]:
    """The images of ``folder`` named by IMAGE_NAME_RULE, by entry order then seed; a name that matches no
    entry of the layout file is an error (a folder of another benchmark)."""
    if not folder.is_dir():
        raise ScoreError(f"image folder {folder} does not exist")
    ids = {safe_entry_id(e.entry_id): e.entry_id for e in layout_file.entries}
    order = {e.entry_id: i for i, e in enumerate(layout_file.entries)}
    found, strangers = [], []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        m = re.fullmatch(r"(.*)_seed(-?\d+)", path.stem)
        name, seed = (m.group(1), int(m.group(2))) if m and m.group(1) in ids else (path.stem, None)
        if name not in ids:
            strangers.append(path.name)
            continue
        found.append(ImageToScore(ids[name], seed, path))
    if strangers:
        raise ScoreError(f"{folder}: {len(strangers)} image(s) name no entry of the layout file, e.g. "
                         f"{', '.join(strangers[:3])}; name images {IMAGE_NAME_RULE}")
    if not found:
        raise ScoreError(f"{folder} has no images ({', '.join(IMAGE_SUFFIXES)}) named {IMAGE_NAME_RULE}")
    return sorted(found, key=lambda im: (order[im.entry_id], im.seed is not None, im.seed or 0))


def check_images(images: list[ImageToScore], layout_file: LayoutFile, layouts: Path, source: str,
                 records: list[dict] | None = None) -> None:
    """Every image exists and names an entry of the layout file, and (from a manifest) was made from that
    entry's layout: otherwise a ScoreError before any model loads."""
    entries = layout_file.by_id()
    unknown = [im.entry_id for im in images if im.entry_id not in entries]
    if unknown:
        raise ScoreError(f"{source}: entries {unknown[:5]} are not in {layouts}; score with the layout file the "
                         f"images were made from")
    for record in records or []:
        made_from = record.get("layout")
        if made_from is not None and made_from != dump_layout(entries[str(record["entry_id"])].instances):
            raise ScoreError(f"{source}: entry {record['entry_id']} was made from another layout than {layouts}'s "
                             f"entry of that id; score with the layout file the run used")
    missing = [str(im.path) for im in images if not im.path.is_file()]
    if missing:
        raise ScoreError(f"{source}: {len(missing)} image(s) missing, e.g. {', '.join(missing[:3])}; rerun the "
                         f"run (it makes what is missing) or score with --limit")


def _write_jsonl(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")


def score_run(manifest: Path | None, layouts: Path, paths: ModelPaths, device=None, out_json: Path | None = None,
              limit: int | None = None, judges: Judges | None = None, clip_bgr_as_official: bool = False,
              images_dir: Path | None = None, progress: bool = False) -> dict:
    """Score the images of a run's ``manifest`` or of ``images_dir`` against the layout file ``layouts``; writes metrics.json
    (``out_json``, default beside the manifest or in the folder) and its companions, returns the figures."""
    layout_file = read_layout_file(layouts)
    fmt = layout_file.format
    if fmt not in NEEDED_MODELS:
        raise ScoreError(f"{layouts}: scoring needs a MIG-Bench, DEIG-Bench or InstDiff-Bench file, this is {fmt}")
    if (manifest is None) == (images_dir is None):
        raise ScoreError("score either a manifest or an image folder")
    if manifest is not None:
        (images, records), source = images_of_manifest(manifest), str(manifest)
    else:
        records, images, source = None, images_of_folder(images_dir, layout_file), str(images_dir)
    images = images[:limit]
    check_images(images, layout_file, layouts, source, (records or [])[:limit])
    entries = layout_file.by_id()
    judges = judges or Judges(fmt, paths, device)
    choices = AttributeChoices.of(judges.clip, layout_file) if fmt == "instdiff-bench" else None
    image_lines, instance_lines = [], []
    tally, per_seed = new_tally(fmt, layout_file), defaultdict(lambda: new_tally(fmt, layout_file))
    started = time.monotonic()
    from tqdm import tqdm

    for item in tqdm(images, desc="scoring", unit="image", file=sys.stderr, disable=not progress):
        entry = entries[item.entry_id]
        image_line, lines = score_image(item, entry, fmt, judges, choices, clip_bgr_as_official)
        image_lines.append(image_line)
        instance_lines += lines
        for t in (tally, per_seed[str(item.seed)]):
            tally_image(t, fmt, entry, image_line, lines)
    seconds = time.monotonic() - started
    figures = {"benchmark": fmt, "source": source, **tally.figures(),
               "seconds_per_image": seconds / len(images) if images else None, "device": str(judges.device)}
    if manifest is not None:
        figures["manifest"] = str(manifest)
    if fmt != "instdiff-bench" and judges.clip is not None:
        figures["clip_bgr_as_official"] = clip_bgr_as_official
    if len(per_seed) > 1:
        figures["per_seed"] = {seed: t.figures() for seed, t in per_seed.items()}
        figures["seed_mean"], figures["seed_std"] = seed_spread(figures["per_seed"])
    figures["table"] = render_table(figures)
    out_json = out_json or (manifest.parent if manifest is not None else images_dir) / "metrics.json"
    out_json.write_text(json.dumps(figures, indent=1))
    stem = out_json.with_suffix("")
    _write_jsonl(Path(f"{stem}.images.jsonl"), image_lines)
    _write_jsonl(Path(f"{stem}.instances.jsonl"), instance_lines)
    Path(f"{stem}.md").write_text(render_markdown(figures), encoding="utf-8")
    Path(f"{stem}.csv").write_text(render_csv(figures), encoding="utf-8")
    return figures
