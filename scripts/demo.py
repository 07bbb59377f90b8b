"""`make demo`: run example_workflows/deig_three_people.json on a headless ComfyUI with this pack, save the
image under out/ and print its path.

With the real weights in the host's model folders (the files the workflow names) they are used.
Otherwise the demo says which files are missing and where they go, and runs on synthetic models
(random weights in the real formats, so the picture is noise) at a small size.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.comfy_env import import_pack  # noqa: E402

import_pack()  # the host and the pack (comfyui_deig) importable, CPU mode without CUDA
from devkit import paths  # noqa: E402
from devkit.example_models import CHECKPOINTS, DEIG_RELEASE, T5, install_example_models  # noqa: E402
from devkit.server import ComfyServer  # noqa: E402
from comfyui_deig.deig_eval.workflow import set_inputs, to_api  # noqa: E402

WORKFLOW = REPO / "example_workflows" / "deig_three_people.json"
NEEDED = {"checkpoints": CHECKPOINTS[0], "deig": DEIG_RELEASE, "text_encoders": T5}


def missing_weights(models: Path) -> list[str]:
    return [f"{folder}/{name} (in {models / folder})" for folder, name in NEEDED.items()
            if not (models / folder / name).exists()]


def main() -> int:
    real_models = paths.host_dir() / "models"
    missing = missing_weights(real_models)
    if missing:
        print("Real weights are missing, so this demo runs on SYNTHETIC models (random weights: the image is noise).")
        for m in missing:
            print(f"  missing: {m}")
        print("See README.md, 'Weights', for where to get them.")
        models = install_example_models(paths.models_cache_dir() / "demo-models")
        size, steps = 256, 8
    else:
        print(f"Using the real weights in {real_models}.")
        models, size, steps = real_models, 512, None  # the workflow's own settings (the official sampling)
    base = REPO / ".cache" / "demo-server"
    shutil.rmtree(base, ignore_errors=True)
    with ComfyServer(base, models_dir=models) as server:
        prompt = to_api(json.loads(WORKFLOW.read_text()), server.object_info())
        set_inputs(prompt, "EmptyLatentImage", width=size, height=size)
        if steps is not None:
            set_inputs(prompt, "KSampler", steps=steps)
        start = time.perf_counter()
        entry = server.run(prompt, timeout=3600)
        files = server.output_files(entry)
        out_dir = REPO / "out"
        out_dir.mkdir(exist_ok=True)
        saved = []
        for f in files:
            dst = out_dir / f.name
            shutil.copy(f, dst)
            saved.append(dst)
        steps = next(n["inputs"]["steps"] for n in prompt.values() if n["class_type"] == "KSampler")
        print(f"Ran {WORKFLOW.name} at {size}x{size}, {steps} steps, in {time.perf_counter() - start:.1f} s.")
    for path in saved:
        print(os.path.relpath(path, os.getcwd()))
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
