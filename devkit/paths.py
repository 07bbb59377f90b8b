"""Where things live: the one place that knows the repo root, the ComfyUI host, the venv and the caches.

Used by the Makefile and the shell scripts (through the command line below), by ``tests/conftest.py``
and by the scripts in ``scripts/`` (through :mod:`devkit.comfy_env`). Standard library only: it runs before the venv exists.

The host is ``$COMFYUI_PATH`` when that is set (a user's own ComfyUI), else ``.host/ComfyUI`` extracted
by ``make setup``.

Command line: ``python3 devkit/paths.py KEY`` prints one path, KEY in
``repo``, ``host``, ``venv``, ``python``, ``floor-venv``, ``floor-python``, ``floor-transformers``,
``floor-tokenizers``, ``pkgs``, ``models-cache``, ``pack-link``, ``managed``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACK_PACKAGE = "comfyui_deig"      # name the tests import the pack as (a symlink to the repo)
PACK_FOLDER = "ComfyUI-DEIG"       # name of the pack's folder inside the host's custom_nodes/ (git clone)
REGISTRY_FOLDER = "deig"          # the folder the Registry/Manager installs it under (the pyproject name)
PINNED_FRONTEND = "1.32.9"         # the frontend ComfyUI 0.3.75 pins (installed in the venv)
NEW_FRONTEND = "1.58.1"            # newest comfyui-frontend-package, served with --front-end-root
FRONTENDS = (PINNED_FRONTEND, NEW_FRONTEND)
PACK_SUBPACKAGES = ("deig_core", "deig_eval")  # importable only as comfyui_deig.<name> in dev code
# ComfyUI 0.3.75's own floor for transformers (its requirements.txt) and the tokenizers it accepts: the pack must
# work there, so `make test` reruns the unit and integration tests in a venv with exactly these.
FLOOR_TRANSFORMERS = "4.50.3"
FLOOR_TOKENIZERS = "0.21.4"


def host_dir() -> Path:
    """The ComfyUI folder (the one holding main.py) tests, demo and serve run against."""
    env = os.environ.get("COMFYUI_PATH", "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT / ".host" / "ComfyUI"


def host_is_managed() -> bool:
    """True when the host is ours to extract and patch (no COMFYUI_PATH given)."""
    return not os.environ.get("COMFYUI_PATH", "").strip()


def venv_dir() -> Path:
    return REPO_ROOT / ".venv"


def venv_python() -> Path:
    return venv_dir() / "bin" / "python"


def floor_venv_dir() -> Path:
    """The venv with ComfyUI's floor transformers: its own transformers and tokenizers, everything else read
    from ``venv_dir()`` through a .pth file (so it shares the same torch and host packages)."""
    return REPO_ROOT / ".venv-floor"


def floor_venv_python() -> Path:
    return floor_venv_dir() / "bin" / "python"


def pkgs_dir() -> Path:
    """Folder put on sys.path that holds ``comfyui_deig -> repo root``."""
    return REPO_ROOT / ".host" / "pkgs"


def models_cache_dir() -> Path:
    """Where synthetic models are cached between runs (ignored by git)."""
    return Path(os.environ.get("DEIG_MODELS_CACHE", REPO_ROOT / ".cache" / "models"))


def pack_link() -> Path:
    """The pack's entry in the host's custom_nodes/."""
    return host_dir() / "custom_nodes" / PACK_FOLDER


def frontends_dir() -> Path:
    """Where ``make setup`` pip-installs extra frontend versions, one folder per version."""
    return REPO_ROOT / ".host" / "frontends"


def frontend_root(version: str) -> Path | None:
    """``--front-end-root`` for a frontend version: None for the pinned one (the host's default),
    else the static folder of ``frontends_dir()/VERSION`` (installed by ``make setup``)."""
    if version == PINNED_FRONTEND:
        return None
    return frontends_dir() / version / "comfyui_frontend_package" / "static"


def artifacts_dir() -> Path:
    return REPO_ROOT / "test-artifacts"


def sys_path_entries() -> list[str]:
    """Entries to put at the front of sys.path so ``comfy``, ``comfy_api``, ``folder_paths``,
    ``comfyui_deig`` and ``devkit`` import. The host comes first so that its
    ``nodes.py`` wins over the pack's ``nodes/`` for ComfyUI code that does ``import nodes``."""
    return [str(host_dir()), str(pkgs_dir()), str(REPO_ROOT)]


def ensure_pack_package() -> Path:
    """Make ``pkgs_dir()/comfyui_deig -> repo root`` exist (``make setup`` does it too). Idempotent."""
    link = pkgs_dir() / PACK_PACKAGE
    if not link.is_symlink() and not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            link.symlink_to(REPO_ROOT)
        except FileExistsError:  # another process made it meanwhile
            pass
    return link


class _OneIdentity:
    """Import hook that refuses the pack's packages as top-level modules (``import deig_core``).

    With the repo root on sys.path (for ``devkit``), ``deig_core`` would import a second time beside
    ``comfyui_deig.deig_core``, giving every class two identities; dev code uses the latter only.
    """

    def find_spec(self, name, path=None, target=None):
        if path is None and name in PACK_SUBPACKAGES:
            raise ImportError(f"import {PACK_PACKAGE}.{name}, not top-level {name} (one identity per class)")
        return None


def install_sys_path() -> None:
    """Put :func:`sys_path_entries` at the front of ``sys.path`` in that order (idempotent),
    creating the ``comfyui_deig`` link first when it is missing, and refuse top-level ``deig_core``."""
    ensure_pack_package()
    for entry in reversed(sys_path_entries()):
        while entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    if not any(isinstance(f, _OneIdentity) for f in sys.meta_path):
        sys.meta_path.insert(0, _OneIdentity())


_KEYS = {
    "repo": lambda: REPO_ROOT,
    "host": host_dir,
    "venv": venv_dir,
    "python": venv_python,
    "floor-venv": floor_venv_dir,
    "floor-python": floor_venv_python,
    "floor-transformers": lambda: FLOOR_TRANSFORMERS,
    "floor-tokenizers": lambda: FLOOR_TOKENIZERS,
    "pkgs": pkgs_dir,
    "models-cache": models_cache_dir,
    "pack-link": pack_link,
    "artifacts": artifacts_dir,
    "frontends": frontends_dir,
    "new-frontend": lambda: NEW_FRONTEND,
    "managed": lambda: "1" if host_is_managed() else "0",
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in _KEYS:
        sys.stderr.write(f"usage: paths.py {{{','.join(_KEYS)}}}\n")
        return 2
    sys.stdout.write(f"{_KEYS[argv[0]]()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
