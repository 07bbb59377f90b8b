"""`make parity`: compare this pack's DEIG on the host's own UNet with official reference vectors.

    python scripts/parity.py --vectors V.safetensors --meta V.json [--tol 1e-4]

What is compared and how: ``devkit/parity.py``. The last line printed is
``parity eps_cond=<max abs err> eps_uncond=<max abs err>``; the exit status is non-zero when either
exceeds the tolerance.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from devkit.parity import run  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    errs = run(args.vectors, args.meta)
    print(f"parity eps_cond={errs['eps_cond']:.3e} eps_uncond={errs['eps_uncond']:.3e}")
    return 0 if max(errs.values()) <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
