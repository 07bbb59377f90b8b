"""Files and folders that dev code builds once and keeps (synthetic models, tiny judges).

:func:`cached_build` is the one way: ``build(partial)`` writes under a temporary name beside the target,
which is renamed to it when complete (a killed build leaves no half file in its place), under a lock
shared by processes (tests and scripts may build the same thing side by side).
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import shutil
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


@contextlib.contextmanager
def build_lock(path: Path):
    """Serialise builders of one cached file across processes (tests may run side by side)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cached_build(path: Path, build: Callable[[Path], object], what: str) -> Path:
    """``path`` (a file or a folder), made by ``build(partial)`` the first time it is asked for."""
    path = Path(path)
    with build_lock(path):
        if not path.exists():
            log.info("building %s %s", what, path)
            partial = path.with_name(path.name + ".partial")
            if partial.is_dir():
                shutil.rmtree(partial)
            partial.unlink(missing_ok=True)
            build(partial)
            partial.replace(path)
    return path
