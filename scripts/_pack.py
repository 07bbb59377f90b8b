"""Make the ComfyUI host and this pack (as package ``comfyui_deig``) importable in a script.

The paths and the CPU setup live in ``tests/support`` (``host.py``, ``comfy_env.py``); this only
reaches them from ``scripts/``. The host is ``$COMFYUI_PATH`` when set, else ``.host/ComfyUI``.
"""
from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_pack() -> None:
    """After this, ``import comfy`` and ``import comfyui_deig.nodes...`` work (CPU mode without CUDA)."""
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from tests.support.comfy_env import HostMissing, ensure_comfy

    try:
        ensure_comfy()
    except HostMissing as e:
        raise SystemExit(str(e)) from None
