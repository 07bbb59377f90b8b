"""Package hygiene: which code may import which, and the pack imports without ComfyUI.

Runtime code (``deig_core/`` plain torch, ``nodes/`` glue, ``deig_eval/`` when present) never imports dev
code; dev code has one home, ``devkit/``, used by ``tests/`` and ``scripts/``, which never import each other.
"""
import ast
import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST_MODULES = {"comfy", "comfy_api", "comfy_extras", "comfy_execution", "folder_paths", "nodes", "server",
                "node_helpers", "latent_preview", "execution"}


DEV_ROOTS = {"devkit", "tests", "scripts"}
ALLOWED = {  # folder -> top-level modules its files must not import (absolute imports; relative ones stay inside)
    "deig_core": HOST_MODULES | DEV_ROOTS | {"comfyui_deig"},
    "nodes": DEV_ROOTS,
    "deig_eval": HOST_MODULES | DEV_ROOTS | {"comfyui_deig"},
    "devkit": {"tests", "scripts"},
    "scripts": {"tests"},
    "tests": {"scripts"},
}


def _absolute_imports(path: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def _python_files(folder: str):
    for root, _, files in os.walk(os.path.join(REPO, folder)):
        yield from (os.path.join(root, f) for f in files if f.endswith(".py"))


def test_imports_run_one_way():
    for folder, forbidden in ALLOWED.items():
        for path in _python_files(folder):
            bad = _absolute_imports(path) & forbidden
            assert not bad, f"{os.path.relpath(path, REPO)} imports {sorted(bad)}"


def test_relative_imports_stay_inside_the_pack_packages():
    for folder in ("deig_core", "nodes"):
        for path in _python_files(folder):
            for node in ast.walk(ast.parse(open(path).read())):
                if isinstance(node, ast.ImportFrom) and node.level == 2:
                    assert (node.module or "").split(".")[0] in ("deig_core", "nodes"), (path, node.module)
                assert not (isinstance(node, ast.ImportFrom) and node.level > 2), path


def test_package_imports_without_comfyui(tmp_path):
    os.symlink(REPO, tmp_path / "comfyui_deig_standalone")
    code = ("import sys; sys.path[:] = [p for p in sys.path if 'ComfyUI' not in p and 'pkgs' not in p]; "
            "import comfyui_deig_standalone as p; print(p.WEB_DIRECTORY, hasattr(p, 'comfy_entrypoint'))")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["./web/js", "False"]


def test_every_script_imports_in_a_fresh_interpreter():
    """What `make demo/soak/bench/parity` start: each script's imports resolve on their own (not only
    inside pytest, whose conftest already put the host and the pack on sys.path)."""
    for name in sorted(os.listdir(os.path.join(REPO, "scripts"))):
        if not name.endswith(".py"):
            continue
        code = f"import runpy; runpy.run_path({os.path.join(REPO, 'scripts', name)!r}, run_name='imported')"
        r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                           env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        assert r.returncode == 0, f"scripts/{name}: {r.stderr[-2000:]}"
