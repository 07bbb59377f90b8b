"""``python -m deig_eval run ...`` and ``python -m deig_eval score ...`` (see ``--help`` of each)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path


def parse_seeds(text: str) -> list[int]:
    """``"0"``, ``"1,2,5"``, ``"0-3"`` (inclusive) or a mix."""
    seeds = []
    for part in text.split(","):
        part = part.strip()
        lo, dash, hi = part.partition("-")
        try:
            seeds.extend(range(int(lo), int(hi) + 1) if dash and lo else [int(part)])
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad seed list {text!r}: use e.g. 0 or 1,2,5 or 0-3") from None
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
    from .runner import RunConfig, run_bench
    from .workflow import WorkflowError

    cfg = RunConfig(bench=Path(args.layouts), workflow=Path(args.workflow), servers=args.server,
                    out_dir=Path(args.out), seeds=args.seeds, limit=args.limit, timeout=args.timeout,
                    probe_every=args.probe_every, rejoin_within=args.rejoin_within,
                    layout_input=args.layout_input, caption_input=args.caption_input,
                    seed_input=args.seed_input, image_node=args.image_node)
    try:
        summary = asyncio.run(run_bench(cfg))
    except (LayoutError, WorkflowError, ServerDown) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"made {summary.made}, skipped {summary.skipped} (already made), failed {len(summary.failed)}"
          f" in {summary.seconds:.1f}s" + (f"; see {cfg.out_dir / 'failed.jsonl'}" if summary.failed else ""))
    return 1 if summary.failed else 0


def _score(args) -> int:
    from .score import ModelPaths, score_run

    paths = ModelPaths(grounding_dino=args.grounding_dino, sam=args.sam, clip=args.clip, qwen=args.qwen)
    result = score_run(Path(args.manifest), Path(args.layouts), paths, device=args.device,
                       out_json=Path(args.json) if args.json else None, limit=args.limit,
                       clip_bgr_as_official=args.clip_bgr_as_official)
    print(result["table"])
    return 0


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
    r.add_argument("--limit", type=int, default=None, help="only the first N entries")
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
    r.set_defaults(func=_run)
    s = sub.add_parser("score", help="score a run's images with the paper's metrics")
    s.add_argument("--manifest", required=True, help="manifest.jsonl of a run")
    s.add_argument("--layouts", "--bench", dest="layouts", required=True,
                   help="the layout file the run used, DEIG-Bench or MIG-Bench (--bench: the old name)")
    s.add_argument("--grounding-dino", help="folder of a transformers GroundingDINO (e.g. grounding-dino-tiny)")
    s.add_argument("--sam", help="folder of a transformers SAM (MIG-Bench, e.g. sam-vit-huge)")
    s.add_argument("--clip", help="folder of a transformers CLIP ViT-L/14 (CLIP and local CLIP scores; optional)")
    s.add_argument("--clip-bgr-as-official", action="store_true",
                   help="give CLIP the images with red and blue swapped, as the official scripts do (they read "
                        "with cv2, BGR), to compare with the paper's CLIP figures (default: the true RGB image)")
    s.add_argument("--qwen", help="folder of Qwen2.5-VL-7B-Instruct (DEIG-Bench attribute judge)")
    s.add_argument("--device", default=None, help="cuda, cpu, ... (default: cuda when available)")
    s.add_argument("--limit", type=int, default=None, help="score only the first N images")
    s.add_argument("--json", help="write the figures here (default: metrics.json beside the manifest)")
    s.set_defaults(func=_score)
    args = p.parse_args(argv)
    if args.command == "score" and args.clip_bgr_as_official and not args.clip:
        s.error("--clip-bgr-as-official changes the CLIP scores only: give --clip too")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
