"""`make soak`: many DEIG prompts and interrupts on a real ComfyUI server.

    python scripts/soak.py [--prompts 100] [--interrupts 10]

Queues prompts with varying layouts (1 to 40 instances) and sizes (square and not), interrupts some
while they run, and checks that every prompt ends completed or cancelled, that the base model carries
no DEIG patch afterwards (a plain txt2img with the same checkpoint and seed gives the same pixels as
before), and that the server's resident memory grows by less than 50 MB after warm-up (one prompt
per image size with the largest layout, so that the host's per-shape caches are filled first). The last line
is ``soak completed=<n> cancelled=<n> failed=<n> rss_growth_mb=<x>``; the exit status is non-zero on
any failure or too much growth.

Resident memory measures what the process holds only if freed buffers go back to the system. With
glibc's default, the mmap threshold rises after the first large free, and later tensor buffers of
varying sizes land in malloc arenas that fragment: RSS then creeps by 0.5-1.5 MB per prompt with or
without this pack (see README, "Limits and errors"). The soak therefore starts the server with a fixed
threshold (``MALLOC_MMAP_THRESHOLD_``); ``--default-malloc`` measures under glibc's default instead.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from devkit.comfy_env import import_pack  # noqa: E402

import_pack()  # the host and the pack (comfyui_deig) importable, CPU mode without CUDA
from devkit import paths  # noqa: E402
from devkit.example_models import install_example_models  # noqa: E402
from devkit.server import ComfyServer  # noqa: E402
from devkit.soak import FIXED_MMAP_THRESHOLD, MAX_RSS_GROWTH_MB, soak  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompts", type=int, default=100)
    ap.add_argument("--interrupts", type=int, default=10)
    ap.add_argument("--default-malloc", action="store_true",
                    help="run the server under glibc's default mmap threshold (RSS includes fragmentation)")
    args = ap.parse_args(argv)
    if not args.default_malloc:
        os.environ.update(FIXED_MMAP_THRESHOLD)  # read by the server process's glibc at its start
    models = install_example_models(paths.models_cache_dir() / "soak-models")
    start = time.perf_counter()
    with ComfyServer(Path(tempfile.mkdtemp(prefix="deig-soak-")), models_dir=models) as server:
        r = soak(server, args.prompts, args.interrupts)
    print(f"soak took {time.perf_counter() - start:.0f} s, interrupts sent {r['interrupts_sent']}, "
          f"malloc {'glibc default' if args.default_malloc else 'fixed mmap threshold'}")
    print(f"soak completed={r['completed']} cancelled={r['cancelled']} failed={r['failed']} "
          f"rss_growth_mb={r['rss_growth_mb']:.1f}")
    return 0 if r["failed"] == 0 and r["rss_growth_mb"] < MAX_RSS_GROWTH_MB else 1


if __name__ == "__main__":
    sys.exit(main())
