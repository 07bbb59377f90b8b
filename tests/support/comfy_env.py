"""Make the ComfyUI host importable in this process, in CPU mode.

``ensure_comfy()`` puts the host (and ``comfyui_deig``) on sys.path and, without CUDA, sets ``--cpu`` on ComfyUI's
parsed arguments before ``comfy.model_management`` is imported (it probes CUDA at import time).
Called by ``tests/conftest.py``; scripts may call it too.
"""
from __future__ import annotations

import logging

from . import host

log = logging.getLogger(__name__)


class HostMissing(RuntimeError):
    pass


def ensure_comfy() -> None:
    host_dir = host.host_dir()
    if not (host_dir / "folder_paths.py").is_file():
        raise HostMissing(f"no ComfyUI at {host_dir}: run `make setup` (or set COMFYUI_PATH)")
    host.install_sys_path()
    from comfy.cli_args import args  # cheap: argparse only; comfy.options keeps sys.argv unparsed

    import torch

    if not args.cpu and not torch.cuda.is_available():
        args.cpu = True
        log.debug("ComfyUI args: --cpu set for in-process use")
