"""Import this repository as the package ``comfyui_deig`` next to a ComfyUI host, outside a server.

The host is ``$COMFYUI_PATH`` when set, else the one `make setup` installs under ``.host/ComfyUI``.
"""
from __future__ import annotations

import importlib.util
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "comfyui_deig"


def host_path() -> str:
    path = os.environ.get("COMFYUI_PATH") or os.path.join(REPO, ".host", "ComfyUI")
    if not os.path.isfile(os.path.join(path, "folder_paths.py")):
        raise SystemExit(f"no ComfyUI found at {path}: run `make setup`, or set COMFYUI_PATH to your ComfyUI folder")
    return os.path.abspath(path)


def import_pack(with_host: bool = True):
    """Register the pack as package ``comfyui_deig`` (then ``import comfyui_deig.nodes...`` works)."""
    if with_host:
        host = host_path()
        if host not in sys.path:
            sys.path.insert(0, host)
        import torch
        from comfy.cli_args import args

        if not torch.cuda.is_available():
            args.cpu = True  # as `main.py --cpu`; must precede comfy.model_management's import
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, os.path.join(REPO, "__init__.py"),
                                                      submodule_search_locations=[REPO])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
    return sys.modules[PACKAGE]
