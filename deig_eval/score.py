"""Score a run: every image of a manifest against its layout-file entry, into the paper's tables.

Images are judged at 512x512 with the layout boxes in pixels, as the official evaluation does.
MIG-Bench needs GroundingDINO and SAM; DEIG-Bench needs GroundingDINO and Qwen2.5-VL; CLIP is optional
and gives the CLIP score (image with caption) and the local CLIP score (each instance's crop with its
description: DEIG-Bench ``description``, MIG-Bench ``label``).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ._core import LayoutEntry, read_layout_file
from .manifest import read_jsonl
from .metrics.boxes import InstanceOutcome, located_outcome
from .metrics.color import color_matches, split_mig_label
from .metrics.tally import ClipMeans, DeigTally, MigTally
from .table import render_table

log = logging.getLogger(__name__)
EVAL_SIZE = 512


@dataclass(frozen=True)
class ModelPaths:
    grounding_dino: str | None = None
    sam: str | None = None
    clip: str | None = None
    qwen: str | None = None


class Judges:
    """The models one bench needs, loaded once."""

    def __init__(self, bench_format: str, paths: ModelPaths, device=None):
        from .metrics import models

        self.device = models.pick_device(device)
        self.detector = models.Detector(paths.grounding_dino, self.device)
        self.segmenter = models.Segmenter(paths.sam, self.device) if bench_format == "mig-bench" else None
        self.judge = models.Judge(paths.qwen, self.device) if bench_format == "deig-bench" else None
        self.clip = models.ClipScorer(paths.clip, self.device) if paths.clip else None


def open_eval_image(path: Path) -> Image.Image:
    """The image as the scorers judge it: RGB, EVAL_SIZE x EVAL_SIZE."""
    return Image.open(path).convert("RGB").resize((EVAL_SIZE, EVAL_SIZE))


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


def add_clip_scores(means: ClipMeans, clip, image, entry: LayoutEntry, bgr_as_official: bool = False) -> None:
    """The image's CLIP score and each instance's local CLIP score. ``bgr_as_official``: give CLIP the image
    with red and blue swapped, as the official scripts do (they read images with cv2, in BGR order)."""
    if bgr_as_official:
        image = Image.merge("RGB", image.split()[::-1])
    means.per_image.add(clip.score(image, [entry.caption]))
    for inst in entry.instances:
        means.per_instance.add(clip.instance_score(image, inst.box, inst.text))


def score_run(manifest: Path, bench: Path, paths: ModelPaths, device=None, out_json: Path | None = None,
              limit: int | None = None, judges: Judges | None = None, clip_bgr_as_official: bool = False) -> dict:
    layout_file = read_layout_file(bench)
    if layout_file.format not in ("mig-bench", "deig-bench"):
        raise ValueError(f"{bench}: scoring needs a MIG-Bench or DEIG-Bench file, this is {layout_file.format}")
    entries = layout_file.by_id()
    records = read_jsonl(manifest)[:limit]
    missing = [r["entry_id"] for r in records if r["entry_id"] not in entries]
    if missing:
        raise ValueError(f"{manifest}: entries {missing[:5]} are not in {bench}; score with the file the run used")
    judges = judges or Judges(layout_file.format, paths, device)
    tally = MigTally() if layout_file.format == "mig-bench" else DeigTally()
    started = time.monotonic()
    for r in records:
        entry = entries[r["entry_id"]]
        image = open_eval_image(manifest.parent / r["file"])
        if judges.clip is not None:
            add_clip_scores(tally.clip, judges.clip, image, entry, clip_bgr_as_official)
        if layout_file.format == "mig-bench":
            tally.add_image(mig_outcomes(image, entry, judges))
        else:
            tally.add_image(deig_outcomes(image, entry, judges), [i.get("eval_info") for i in entry.raw["instances"]])
    seconds = time.monotonic() - started
    figures = {"bench": layout_file.format, "manifest": str(manifest), **tally.figures(),
               "seconds_per_image": seconds / len(records) if records else None, "device": str(judges.device)}
    if judges.clip is not None:
        figures["clip_bgr_as_official"] = clip_bgr_as_official
    figures["table"] = render_table(figures)
    out_json = out_json or manifest.parent / "metrics.json"
    out_json.write_text(json.dumps(figures, indent=1))
    return figures
