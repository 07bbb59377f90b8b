"""Browser tests run against both frontends a user may have on ComfyUI 0.3.75: the pinned 1.32.9
(the venv's package) and the newest 1.58.1 (``make setup`` installs it into ``.host/frontends/``;
the same host serves it with ``--front-end-root``).

``comfy_server`` here shadows the session server of ``tests/conftest.py``: one server per frontend,
parametrised, so every browser test runs on both. The two servers also mount the pack under the two
folder names it is installed under: the git clone's ``ComfyUI-DEIG`` (1.32.9) and the Registry's
``deig`` (its pyproject name; 1.58.1); ``comfy_server.pack_folder`` says which.
"""
from __future__ import annotations

import pytest

from devkit import paths

PACK_FOLDER_FOR = {paths.PINNED_FRONTEND: paths.PACK_FOLDER, paths.NEW_FRONTEND: paths.REGISTRY_FOLDER}


def other_frontend(version: str) -> str:
    return next(v for v in paths.FRONTENDS if v != version)


def frontend_server(version: str, tmp_path_factory, models_dir, host_dir):
    """A context: a started ComfyUI server serving frontend ``version``, the pack under
    PACK_FOLDER_FOR[version]."""
    from devkit.server import running_server

    return running_server(tmp_path_factory.mktemp(f"comfy-fe{version}"), models_dir, host_dir,
                          frontend=version, pack_folder=PACK_FOLDER_FOR[version])


@pytest.fixture(scope="session", params=paths.FRONTENDS, ids=lambda v: f"fe{v}")
def comfy_server(request, tmp_path_factory, models_dir, host_dir):
    """A real ComfyUI server serving frontend ``request.param`` (see the module docstring)."""
    with frontend_server(request.param, tmp_path_factory, models_dir, host_dir) as server:
        yield server


@pytest.fixture
def other_frontend_server(comfy_server, tmp_path_factory, models_dir, host_dir):
    """A second server, started for this test, serving the frontend ``comfy_server`` does not."""
    with frontend_server(other_frontend(comfy_server.frontend), tmp_path_factory, models_dir, host_dir) as server:
        yield server
