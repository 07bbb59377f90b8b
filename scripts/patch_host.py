"""Idempotent patches applied to the extracted ComfyUI (only the one ``make setup`` manages).

1. Delete ``extra_model_paths.yaml``: the wheel's copy points custom nodes at a folder that is not there.
2. Make top-level ``torchvision`` imports optional (torchvision is not installed: its wheel would pull
   another torch). ``comfy/sd.py`` reaches them through the stage_c / cosmos / ace modules. A fake
   ``torchvision`` module would break transformers, so the import is wrapped instead.
3. Delete the host's own test folders (``tests/`` is a package that would shadow this repo's ``tests``
   once the host is on sys.path).
"""
from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

MARK = "# DEIG host patch: torchvision is optional"
_TOP_LEVEL_IMPORT = re.compile(r"^(import torchvision(?:\.\w+)*(?: as (\w+))?|from torchvision(?:\.\w+)* import ([\w, ]+))\s*$")
_TORCHVISION_FILES = (
    "comfy/ldm/cascade/stage_c_coder.py",
    "comfy/ldm/cascade/controlnet.py",
    "comfy/ldm/cosmos/model.py",
    "comfy/ldm/cosmos/predict2.py",
    "comfy/ldm/ace/vae/music_dcae_pipeline.py",
)


def _bound_names(match: re.Match) -> list[str]:
    if match.group(3):
        return [n.strip() for n in match.group(3).split(",") if n.strip()]
    return [match.group(2) or "torchvision"]


def make_torchvision_optional(path: Path) -> bool:
    """Wrap each unindented torchvision import of ``path`` in try/except ImportError. True if changed."""
    lines = path.read_text().splitlines(keepends=True)
    out, changed = [], False
    for i, line in enumerate(lines):
        m = _TOP_LEVEL_IMPORT.match(line.rstrip("\n"))
        if m and not (i > 0 and lines[i - 1].startswith(MARK)):
            fallback = "".join(f"    {name} = None\n" for name in _bound_names(m))
            out += [f"{MARK}\n", "try:\n", f"    {line.strip()}\n", "except ImportError:\n", fallback]
            changed = True
        else:
            out.append(line)
    if changed:
        path.write_text("".join(out))
    return changed


def patch(host: Path) -> list[str]:
    done = []
    extra = host / "extra_model_paths.yaml"
    if extra.exists():
        extra.unlink()
        done.append("removed extra_model_paths.yaml")
    for rel in _TORCHVISION_FILES:
        path = host / rel
        if path.is_file() and make_torchvision_optional(path):
            done.append(f"torchvision optional in {rel}")
    for rel in ("tests", "tests-unit"):
        if (host / rel).is_dir():
            shutil.rmtree(host / rel)
            done.append(f"removed {rel}/")
    return done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("host", type=Path, help="the extracted ComfyUI folder")
    args = ap.parse_args()
    if not (args.host / "main.py").is_file():
        raise SystemExit(f"{args.host} is not a ComfyUI folder (no main.py)")
    done = patch(args.host)
    print("host patch: " + ("; ".join(done) if done else "already applied"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
