"""Throughput of ``python -m deig_eval run`` on this machine: images per minute on one ComfyUI server,
then on two (both on this machine, so they share its cores: expect contention, not 2x).

    python scripts/runner_throughput.py [--entries 6] [--size 64] [--steps 1]
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python scripts/runner_throughput.py   # each server one core

Synthetic models, a synthetic MIG-Bench file; each server is warmed up (models loaded) first. Prints
``runner servers=<n> images=<n> seconds=<x> images_per_min=<x>`` per configuration.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from devkit.comfy_env import import_pack  # noqa: E402

import_pack()  # comfyui_deig -> this repo (its package __init__ imports the host, in CPU mode)
from comfyui_deig.deig_eval.runner import RunConfig, run_layout_file  # noqa: E402
from comfyui_deig.deig_eval.workflow import set_inputs, to_api  # noqa: E402
from devkit.synthetic_layouts import mig_bench  # noqa: E402
from devkit.example_models import install_example_models  # noqa: E402
from devkit.server import ComfyServer  # noqa: E402
from devkit.synthetic_models import populate_models_tree  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=6)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="deig-runner-throughput-") as tmp:
        tmp = Path(tmp)
        models = tmp / "models"
        populate_models_tree(models)
        install_example_models(models)
        servers = [ComfyServer(tmp / f"comfy{i}", models_dir=models) for i in range(2)]
        try:
            for s in servers:
                s.start()
            workflow = json.loads((REPO / "example_workflows" / "deig_three_people.json").read_text())
            prompt = to_api(workflow, servers[0].object_info())
            set_inputs(prompt, "EmptyLatentImage", width=args.size, height=args.size)
            set_inputs(prompt, "KSampler", steps=args.steps, cfg=1.0)
            (tmp / "workflow.json").write_text(json.dumps(prompt))
            (tmp / "bench.json").write_text(json.dumps(mig_bench(2 * args.entries + 2)))
            for i, s in enumerate(servers):  # warm-up: load the models on each server
                asyncio.run(run_layout_file(RunConfig(tmp / "bench.json", tmp / "workflow.json", [s.base_url],
                                                tmp / f"warm{i}", seeds=[1000 + i], limit=1)))
            for n, seed in ((1, 1), (2, 2)):
                cfg = RunConfig(tmp / "bench.json", tmp / "workflow.json", [s.base_url for s in servers[:n]],
                                tmp / f"run{n}", seeds=[seed], limit=args.entries * n)
                summary = asyncio.run(run_layout_file(cfg))
                print(f"runner servers={n} images={summary.made} seconds={summary.seconds:.1f} "
                      f"images_per_min={60 * summary.made / summary.seconds:.2f}", flush=True)
        finally:
            for s in servers:
                s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
