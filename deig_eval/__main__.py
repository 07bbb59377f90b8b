"""``python -m deig_eval run ...``, ``score ...``, ``report ...`` and ``instdiff-bench ...`` (see ``--help`` of each)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path


MAX_SEED = 0xFFFFFFFFFFFFFFFF  # ComfyUI's KSampler seed range is 0..2**64-1


def parse_seeds(text: str) -> list[int]:
    """``"0"``, ``"1,2,5"``, ``"0-3"`` (inclusive) or a mix; every seed in ComfyUI's range, ranges
    ascending."""
    seeds = []
    for part in text.split(","):
        part = part.strip()
        lo, dash, hi = part.partition("-")
        try:
            span = range(int(lo), int(hi) + 1) if dash else range(int(part), int(part) + 1)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad seed list {text!r}: use e.g. 0 or 1,2,5 or 0-3 "
                                             f"(seeds are whole numbers >= 0)") from None
        if not span:
            raise argparse.ArgumentTypeError(f"bad seed range {part!r}: write the lower seed first, e.g. 0-3")
        if span[-1] > MAX_SEED:
            raise argparse.ArgumentTypeError(f"seed {span[-1]} is above ComfyUI's largest seed {MAX_SEED}")
        seeds.extend(span)
    return list(dict.fromkeys(seeds))


def seconds(positive: bool):
    """An argparse type: a number of seconds, > 0 with ``positive``, else >= 0."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value > 0 if positive else value >= 0):  # nan fails both
            raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds {'> 0' if positive else '>= 0'}")
        return value
    return parse


def _run(args) -> int:
    from ._core import LayoutError
    from .client import ServerDown
    from .preflight import PreflightError
    from .runner import RunConfig, RunStopped, run_layout_file
    from .workflow import WorkflowError

    cfg = RunConfig(layouts=Path(args.layouts), workflow=Path(args.workflow), servers=args.server,
                    out_dir=Path(args.out), seeds=args.seeds, limit=args.limit, timeout=args.timeout,
                    probe_every=args.probe_every, rejoin_within=args.rejoin_within,
                    layout_input=args.layout_input, caption_input=args.caption_input,
                    seed_input=args.seed_input, image_node=args.image_node,
                    allow_other_workflow=args.allow_other_workflow)
    try:
        summary = asyncio.run(run_layout_file(cfg))
    except (LayoutError, WorkflowError, ServerDown, PreflightError, RunStopped) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"made {summary.made}, skipped {summary.skipped} (already made), failed {len(summary.failed)}"
          f" in {summary.seconds:.1f}s" + (f"; see {cfg.out_dir / 'failed.jsonl'}" if summary.failed else ""))
    return 1 if summary.failed else 0


def _score(args) -> int:
    from .score import ModelPaths, score_run

    paths = ModelPaths(grounding_dino=args.grounding_dino, sam=args.sam, clip=args.clip, qwen=args.qwen)
    result = score_run(Path(args.manifest) if args.manifest else None, Path(args.layouts), paths, device=args.device,
                       out_json=Path(args.json) if args.json else None, limit=args.limit,
                       clip_bgr_as_official=args.clip_bgr_as_official,
                       images_dir=Path(args.images) if args.images else None, progress=True)
    print(result["table"])
    return 0


def _instdiff_bench(args) -> int:
    from .instdiff_bench import write_instdiff_bench

    n = write_instdiff_bench(Path(args.instances), Path(args.captions), args.attribute, Path(args.out))
    print(f"wrote {n} entries ({args.attribute}) to {args.out}")
    return 0


def _report(args) -> int:
    from .report import write_report

    out = write_report(Path(args.metrics), Path(args.out) if args.out else None, args.samples, args.extremes)
    print(f"wrote {out}")
    return 0


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number >= 1")
    return value


def _check_score_flags(parser, args) -> None:
    """The model folders the bench needs, and the flags that only some benches use, checked before any
    model loads (the bench file says which bench it is)."""
    from ._core import LayoutError, read_layout_file
    from .score import NEEDED_MODELS

    if args.clip_bgr_as_official and not args.clip:
        parser.error("--clip-bgr-as-official changes the CLIP scores only: give --clip too")
    try:
        fmt = read_layout_file(args.layouts).format
    except LayoutError as e:
        parser.error(f"--layouts: {e}")
    if fmt not in NEEDED_MODELS:
        parser.error(f"--layouts {args.layouts} is a layout file of format '{fmt}'; scoring needs a MIG-Bench, DEIG-Bench or "
                     f"InstDiff-Bench file")
    lacking = [flag for field, flag in NEEDED_MODELS[fmt].items() if not getattr(args, field)]
    if lacking:
        parser.error(f"{fmt} is scored with {' and '.join(NEEDED_MODELS[fmt].values())}: give {', '.join(lacking)}")
    if fmt == "instdiff-bench" and args.clip_bgr_as_official:
        parser.error("--clip-bgr-as-official is for MIG-Bench and DEIG-Bench (InstDiff-Bench's CLIP reads RGB)")


def _user_errors() -> tuple[type, ...]:
    """What a user can fix (a file, a folder, a flag): reported as one line, not a traceback."""
    from ._core import LayoutError
    from .instdiff_bench import CocoError
    from .report import ReportError
    from .score import ScoreError

    return LayoutError, CocoError, ReportError, ScoreError, FileNotFoundError


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m deig_eval", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="make the images of a layout file on one or more ComfyUI servers")
    r.add_argument("--layouts", "--bench", dest="layouts", required=True,
                   help="layout file: DEIG-Bench, MIG-Bench, editor JSON or JSON Lines (--bench: the old name)")
    r.add_argument("--workflow", required=True, help="API prompt or UI workflow JSON")
    r.add_argument("--server", action="append", required=True,
                   help="ComfyUI URL, e.g. http://127.0.0.1:8188; repeat for more servers (other machines too)")
    r.add_argument("--out", required=True, help="output folder (images/, manifest.jsonl, failed.jsonl)")
    r.add_argument("--seeds", type=parse_seeds, default=[0], help="seeds per entry: 0 | 1,2,5 | 0-3 (default 0)")
    r.add_argument("--limit", type=positive_int, default=None, help="only the first N entries")
    r.add_argument("--timeout", type=seconds(positive=True), default=600.0, help="seconds one image may take before the server "
                                                                "is considered hung (default 600)")
    r.add_argument("--probe-every", type=seconds(positive=True), default=30.0,
                   help="seconds between two probes of a server that was lost (default 30)")
    r.add_argument("--rejoin-within", type=seconds(positive=False), default=600.0,
                   help="a lost server that answers again within this many seconds (a restart) takes entries "
                        "again; meanwhile entries no other server may try wait for it. 0: never (default 600)")
    r.add_argument("--layout-input", help="NODE_ID.input that takes the layout JSON (default DEIG_InstanceLayout)")
    r.add_argument("--caption-input", help="NODE_ID.input that takes the caption (default DEIG_Encode.prompt)")
    r.add_argument("--seed-input", help="NODE_ID.input that takes the seed (default every seed/noise_seed)")
    r.add_argument("--image-node", help="node id whose image is kept (default SaveImage fed by VAEDecode)")
    r.add_argument("--allow-other-workflow", action="store_true",
                   help="resume a run folder whose run.json names another workflow (its images would mix two "
                        "workflows; refused without this)")
    r.set_defaults(func=_run)
    s = sub.add_parser("score", help="score a run's images, or a folder of images, with the paper's metrics")
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--manifest", help="manifest.jsonl of a run")
    source.add_argument("--images", help="a folder of images made elsewhere, named <entry id>_seed<seed>.png (or "
                                         ".jpg/.jpeg/.webp; <entry id>.png without a seed); see the README")
    s.add_argument("--layouts", "--bench", dest="layouts", required=True,
                   help="the layout file the images were made from: DEIG-Bench, MIG-Bench or InstDiff-Bench "
                        "(--bench: the old name)")
    s.add_argument("--grounding-dino", help="folder of a transformers GroundingDINO (MIG-Bench, DEIG-Bench; the "
                                            "paper's is Swin-T: IDEA-Research/grounding-dino-tiny)")
    s.add_argument("--sam", help="folder of a transformers SAM (MIG-Bench, e.g. sam-vit-huge)")
    s.add_argument("--clip", help="folder of a transformers CLIP ViT-L/14 (InstDiff-Bench: needed, "
                                  "laion/CLIP-ViT-L-14-laion2B-s32B-b82K as the original; others: optional CLIP "
                                  "and local CLIP scores)")
    s.add_argument("--clip-bgr-as-official", action="store_true",
                   help="give CLIP the images with red and blue swapped, as the official scripts do (they read "
                        "with cv2, BGR), to compare with the paper's CLIP figures (default: the true RGB image)")
    s.add_argument("--qwen", help="folder of Qwen2.5-VL-7B-Instruct (DEIG-Bench attribute judge)")
    s.add_argument("--device", default=None, help="cuda, cpu, ... (default: cuda when available)")
    s.add_argument("--limit", type=positive_int, default=None, help="score only the first N images")
    s.add_argument("--json", help="write the figures here (default: metrics.json beside the manifest, or in the "
                                  "image folder); tables and per-image/per-instance lines go beside it")
    s.set_defaults(func=_score)
    b = sub.add_parser("instdiff-bench", help="build the InstDiff-Bench layout file (Table 3) from COCO val2017")
    b.add_argument("--instances", required=True, help="COCO instances_val2017.json")
    b.add_argument("--captions", required=True, help="COCO captions_val2017.json")
    b.add_argument("--attribute", required=True, choices=["color", "texture"], help="which attributes to bind")
    b.add_argument("--out", required=True, help="the layout file to write (JSON)")
    b.set_defaults(func=_instdiff_bench)
    rp = sub.add_parser("report", help="one HTML or Markdown page of a scored run: tables, sample images with "
                                       "their boxes, worst and best images")
    rp.add_argument("--metrics", required=True, help="metrics.json written by score (its .images.jsonl and "
                                                     ".instances.jsonl beside it)")
    rp.add_argument("--out", help="report.html (default, beside metrics.json) or a .md file")
    rp.add_argument("--samples", type=positive_int, default=12, help="images in the sample grid (default 12)")
    rp.add_argument("--extremes", type=positive_int, default=4, help="worst and best images shown (default 4)")
    rp.set_defaults(func=_report)
    args = p.parse_args(argv)
    if args.command == "score":
        _check_score_flags(s, args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except _user_errors() as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
