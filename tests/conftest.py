"""Test harness for ComfyUI-DEIG.

Imports: the host (``$COMFYUI_PATH`` or ``.host/ComfyUI``) goes on sys.path in CPU mode, so ``comfy``,
``comfy_api``, ``folder_paths`` import; the pack imports as ``comfyui_deig`` (``.host/pkgs``) and only so
(a top-level ``import deig_core`` is refused: one identity per class); dev helpers come from ``devkit``.

Markers: ``unit`` (default), ``integration`` (real ``comfy`` in process), ``e2e`` (real server),
``browser`` (headless Chromium). Tests under ``tests/e2e`` and ``tests/browser`` get theirs
automatically. Select with e.g. ``-m unit`` or ``-m "not browser"``.

Fixtures: ``host_dir``, ``models_dir``, ``comfy_server``, ``artifacts_dir``, ``browser``
(see each one's docstring).
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from devkit import paths  # noqa: E402
from devkit.comfy_env import HostMissing, ensure_comfy  # noqa: E402

try:
    ensure_comfy()
    _HOST_ERROR = None
except HostMissing as e:  # unit tests still run; integration/e2e/browser fail with this message
    paths.install_sys_path()
    _HOST_ERROR = str(e)

KINDS = ("unit", "integration", "e2e", "browser")
DEFAULT_TIMEOUT_S = {"unit": 300, "integration": 600, "e2e": 1200, "browser": 900}
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

try:  # slow 2-core machines: no per-example deadline; keep the example database out of the tree
    from hypothesis import settings
    from hypothesis.database import DirectoryBasedExampleDatabase

    settings.register_profile("deig", deadline=None, print_blob=True,
                              database=DirectoryBasedExampleDatabase(str(paths.REPO_ROOT / ".cache" / "hypothesis")))
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deig"))
except ImportError:
    pass


def pytest_configure(config):
    config.addinivalue_line("markers", "unit: fast test without the ComfyUI host (default)")
    for kind in KINDS[1:]:  # pyproject declares them too; harmless when both do
        config.addinivalue_line("markers", f"{kind}: see tests/conftest.py")


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).parts
        for kind in ("e2e", "browser", "integration"):
            if kind in parts and not item.get_closest_marker(kind):
                item.add_marker(getattr(pytest.mark, kind))
        kind = next((k for k in KINDS[1:][::-1] if item.get_closest_marker(k)), "unit")
        if kind == "unit":
            item.add_marker(pytest.mark.unit)
        if not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S[kind]))


def pytest_runtest_setup(item):
    if _HOST_ERROR and any(item.get_closest_marker(k) for k in KINDS[1:]):
        pytest.fail(_HOST_ERROR, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    server = item.funcargs.get("comfy_server") if hasattr(item, "funcargs") else None
    if report.failed and server is not None:
        report.sections.append(("ComfyUI server log (tail)", server.log_tail(120)))


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def host_dir() -> Path:
    """The ComfyUI folder under test ($COMFYUI_PATH or .host/ComfyUI)."""
    if _HOST_ERROR:
        pytest.fail(_HOST_ERROR, pytrace=False)
    return paths.host_dir()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, host_dir) -> Path:
    """Session-wide ComfyUI models tree the server uses: ``checkpoints/deig_synthetic_sd15.safetensors``
    (full-size synthetic SD1.5), ``text_encoders/deig_synthetic_t5/`` (tiny T5 folder), ``deig/``
    (empty: put DEIG weights there; the server sees files added later)."""
    from devkit.synthetic_models import populate_models_tree

    root = tmp_path_factory.mktemp("models")
    populate_models_tree(root)
    return root


@pytest.fixture(scope="session")
def comfy_server(tmp_path_factory, models_dir, host_dir):
    """A real ComfyUI server with this pack (``devkit.server.ComfyServer``): ``base_url``,
    ``submit(prompt) -> prompt_id``, ``wait(prompt_id, timeout) -> history entry``, ``run(prompt)``,
    ``output_files(entry)``, ``object_info(node=None)``, ``output_dir``, ``log_path``, ``log_tail()``.
    Always stopped at the end of the session. The pack's folder in its custom_nodes/ is ``ComfyUI-DEIG``
    (a git clone), or ``$DEIG_PACK_FOLDER`` (e.g. ``deig``, where the Registry installs it).
    tests/browser/ has its own: one server per frontend."""
    from devkit.server import running_server

    pack_folder = os.environ.get("DEIG_PACK_FOLDER", "").strip() or paths.PACK_FOLDER
    with running_server(tmp_path_factory.mktemp("comfy"), models_dir, host_dir, pack_folder=pack_folder) as server:
        yield server


@pytest.fixture
def artifacts_dir(request) -> Path:
    """``test-artifacts/<test id>/`` (ignored by git), emptied for this test: screenshots, logs."""
    import shutil

    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])[:120]
    path = paths.artifacts_dir() / Path(str(request.node.fspath)).stem / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture(scope="session")
def browser():
    """``browser(script, base_url, artifacts_dir, timeout=180, args=()) -> dict`` running a Node
    script (``tests/browser/*.mjs``, built on ``devkit/js/driver.mjs``). Skips when Chromium/playwright-core are missing (fails in CI)."""
    from devkit.browser import browser_missing, run_browser_script

    why = browser_missing()
    if why:
        (pytest.fail if IN_CI else pytest.skip)(f"browser unavailable: {why}")
    return run_browser_script
