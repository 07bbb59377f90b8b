"""Package hygiene: importable without ComfyUI, and deig_core never imports the host."""
import ast
import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST_MODULES = {"comfy", "comfy_api", "comfy_extras", "comfy_execution", "folder_paths", "nodes", "server",
                "node_helpers", "latent_preview", "execution"}


def test_deig_core_imports_no_comfyui_module():
    core = os.path.join(REPO, "deig_core")
    for name in os.listdir(core):
        if not name.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(core, name)).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & HOST_MODULES, f"deig_core/{name} imports {roots & HOST_MODULES}"


def test_package_imports_without_comfyui(tmp_path):
    os.symlink(REPO, tmp_path / "comfyui_deig_standalone")
    code = ("import sys; sys.path[:] = [p for p in sys.path if 'ComfyUI' not in p and 'pkgs' not in p]; "
            "import comfyui_deig_standalone as p; print(p.WEB_DIRECTORY, hasattr(p, 'comfy_entrypoint'))")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["./web/js", "False"]
