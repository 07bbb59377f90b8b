"""pyproject.toml against the Comfy Registry's rules (https://docs.comfy.org/registry/specifications),
its dependencies against requirements.txt (what ComfyUI-Manager installs), and .comfyignore against
what a published archive must leave out."""
import os
import re
import subprocess
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from devkit import paths

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT, COMFY = PYPROJECT["project"], PYPROJECT["tool"]["comfy"]
# Addresses that were once written here and do not exist; no file may name them again.
INVENTED_URLS = ("github.com/comfyui-deig/",)


def _requirements_txt() -> list[Requirement]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in (ln.split("#", 1)[0].strip() for ln in lines) if line]


def test_name_follows_registry_rules():
    name = PROJECT["name"]
    assert len(name) < 100
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", name), "letters, digits, - _ . only; starts with a letter"
    assert not re.search(r"[-_.]{2}", name), "no consecutive special characters"
    assert "comfyui" not in name.lower(), "the Registry asks not to put ComfyUI in the name"
    # The Registry/Manager installs the pack into custom_nodes/<name>; the browser tests mount it so.
    assert paths.REGISTRY_FOLDER == name.lower()


def test_version_is_three_number_semver():
    assert re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", PROJECT["version"])


def test_license_form():
    lic = PROJECT["license"]
    assert isinstance(lic, dict) and set(lic) in ({"file"}, {"text"}), 'license = { file = "..." } or { text = "..." }'
    if "file" in lic:
        assert (REPO / lic["file"]).is_file()
    licence_classifiers = [c for c in PROJECT.get("classifiers", []) if c.startswith("License ::")]
    if "GNU GENERAL PUBLIC LICENSE" in (REPO / "LICENSE").read_text()[:200] and licence_classifiers:
        assert licence_classifiers == ["License :: OSI Approved :: GNU General Public License v3 (GPLv3)"]


def test_tool_comfy_section():
    # PublisherId, Icon and the Repository URL need the real repository: none exists yet, so none is written
    assert "PublisherId" not in COMFY and "Icon" not in COMFY and "urls" not in PROJECT
    assert COMFY["DisplayName"].strip()
    spec = COMFY["requires-comfyui"]
    SpecifierSet(spec)                                         # PEP 440 specifier syntax, or this raises
    assert Version("0.3.75") in SpecifierSet(spec), "the host the tests run on must satisfy it"


def test_dependencies_agree_with_requirements_txt_and_leave_torch_alone():
    ours = sorted(str(Requirement(r)) for r in PROJECT["dependencies"])
    assert ours == sorted(str(r) for r in _requirements_txt())
    assert not any(Requirement(r).name.lower() in {"torch", "torchvision", "torchaudio"} for r in PROJECT["dependencies"])


# The accelerator classifiers the Registry accepts (comfy-cli's and ComfyUI's config parser: one outside this
# list and the Registry keeps none).
REGISTRY_ACCELERATORS = {"GPU :: NVIDIA CUDA", "GPU :: AMD ROCm", "GPU :: Intel Arc", "NPU :: Huawei Ascend",
                         "GPU :: Apple Metal"}


def test_classifiers_are_trove_form():
    classifiers = PROJECT["classifiers"]
    assert classifiers and all(re.fullmatch(r"[A-Z][\w .()/+-]*( :: [\w .()/+-]+)+", c) for c in classifiers)
    assert "Operating System :: OS Independent" in classifiers
    accelerators = {c.removeprefix("Environment :: ") for c in classifiers if c.startswith("Environment :: ")}
    assert {"GPU :: NVIDIA CUDA", "GPU :: AMD ROCm"} <= accelerators <= REGISTRY_ACCELERATORS


def test_no_invented_urls_anywhere():
    texts = [REPO / "pyproject.toml", REPO / "README.md", *REPO.glob("example_workflows/*"), *REPO.glob("docs/*.md")]
    for path in texts:
        if path.suffix in {".jpg", ".png"}:
            continue
        text = path.read_text(encoding="utf-8")
        for bad in INVENTED_URLS:
            assert bad not in text, f"{path.name} names {bad}, which does not exist"
    for url in PYPROJECT["project"].get("urls", {}).values():
        assert url.startswith("https://") and not any(bad in url for bad in INVENTED_URLS)


def _registry_archive(extra_paths=()) -> set[str]:
    """The files `comfy node publish` would zip: the git-tracked files (plus ``extra_paths``, as if tracked)
    minus what .comfyignore matches, matched by git itself (gitignore rules, as comfy-cli's gitwildmatch)."""
    tracked = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True)
    files = sorted(set(tracked.stdout.splitlines()) | set(extra_paths))
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_DIR=os.path.join(tmp, "git"), GIT_WORK_TREE=tmp)
        subprocess.run(["git", "init", "-q"], env=env, check=True)
        empty_blob = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        subprocess.run(["git", "update-index", "--add", "--index-info"], env=env, check=True, text=True,
                       input="".join(f"100644 {empty_blob}\t{f}\n" for f in files))
        ignored = subprocess.run(["git", "ls-files", "--cached", "--ignored", f"--exclude-from={REPO / '.comfyignore'}"],
                                 env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    return set(files) - set(ignored)


def test_comfyignore_leaves_out_dev_files_and_keeps_the_pack():
    # a help-page folder in the web directory (and one deeper in the pack) must ship
    web_docs = ("web/docs/DEIG_Apply.md", "web/js/docs/DEIG_Apply.md", "nodes/docs/notes.md")
    archive = _registry_archive(web_docs)
    assert set(web_docs) <= archive
    for dev in ("tests/", "scripts/", ".ci/", "devkit/", "docs/", "package.json", "package-lock.json", "Makefile"):
        assert not any(f == dev or f.startswith(dev) for f in archive), dev
    for runtime in ("__init__.py", "requirements.txt", "pyproject.toml", "LICENSE", "README.md", "node_list.json", "run_command.py",
                    "nodes/__init__.py", "deig_core/checkpoint.py", "deig_eval/__main__.py", "web/js/deig_box_editor.js"):
        assert runtime in archive, runtime
    assert any(f.startswith("example_workflows/") for f in archive)
    patterns = [ln.strip() for ln in (REPO / ".comfyignore").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert all(p.startswith("/") for p in patterns), "anchor every pattern to the pack's root"


def test_no_dependency_floor_above_comfyuis_own():
    """Installing the pack never upgrades what ComfyUI already pins a floor for (requirements.txt is what the
    Manager pip-installs); the floor venv of `make test` uses exactly ComfyUI's transformers floor."""
    host = {}
    for line in (paths.host_dir() / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            host[req.name.lower()] = req
    for ours in _requirements_txt():
        theirs = host.get(ours.name.lower())
        if theirs is None:
            continue
        our_floor = [Version(s.version) for s in ours.specifier if s.operator == ">="]
        their_floor = [Version(s.version) for s in theirs.specifier if s.operator == ">="]
        assert not our_floor or (their_floor and max(our_floor) <= max(their_floor)), f"{ours} above ComfyUI's {theirs}"
    assert Version(paths.FLOOR_TRANSFORMERS) in host["transformers"].specifier
    assert str(host["transformers"].specifier) == f">={paths.FLOOR_TRANSFORMERS}"
