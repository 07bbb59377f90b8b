"""Make the ComfyUI host and this pack (as package ``comfyui_deig``) importable in this process, in CPU mode.

``ensure_comfy()`` puts the host (and ``comfyui_deig``) on sys.path and, without CUDA, sets ``--cpu`` on
ComfyUI's parsed arguments before ``comfy.model_management`` is imported (it probes CUDA at import time).
Called by ``tests/conftest.py``; command-line scripts call :func:`import_pack`.
"""
from __future__ import annotations

import logging

from . import paths

log = logging.getLogger(__name__)


class HostMissing(RuntimeError):
    pass


def ensure_comfy() -> None:
    host_dir = paths.host_dir()
    if not (host_dir / "folder_paths.py").is_file():
        raise HostMissing(f"no ComfyUI at {host_dir}: run `make setup` (or set COMFYUI_PATH)")
    paths.install_sys_path()
    from comfy.cli_args import args  # cheap: argparse only; comfy.options keeps sys.argv unparsed

    import torch

    if not args.cpu and not torch.cuda.is_available():
        args.cpu = True
        log.debug("ComfyUI args: --cpu set for in-process use")


def import_pack() -> None:
    """For command-line scripts: :func:`ensure_comfy`, or exit with its message when there is no host."""
    try:
        ensure_comfy()
    except HostMissing as e:
        raise SystemExit(str(e)) from None
