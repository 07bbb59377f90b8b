"""pyproject.toml against the Comfy Registry's rules (https://docs.comfy.org/registry/specifications),
its dependencies against requirements.txt (what ComfyUI-Manager installs), and .comfyignore against
what a published archive must leave out."""
import re
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
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", COMFY["PublisherId"]), "PublisherId: lowercase, digits, hyphens"
    assert COMFY["DisplayName"].strip()
    spec = COMFY["requires-comfyui"]
    SpecifierSet(spec)                                         # PEP 440 specifier syntax, or this raises
    assert Version("0.3.75") in SpecifierSet(spec), "the host the tests run on must satisfy it"
    assert "Icon" not in COMFY or COMFY["Icon"].startswith("https://"), "Icon: an image URL, or leave it out"


def test_dependencies_agree_with_requirements_txt_and_leave_torch_alone():
    ours = sorted(str(Requirement(r)) for r in PROJECT["dependencies"])
    assert ours == sorted(str(r) for r in _requirements_txt())
    assert not any(Requirement(r).name.lower() in {"torch", "torchvision", "torchaudio"} for r in PROJECT["dependencies"])


def test_classifiers_are_trove_form():
    classifiers = PROJECT["classifiers"]
    assert classifiers and all(re.fullmatch(r"[A-Z][\w .()/+-]*( :: [\w .()/+-]+)+", c) for c in classifiers)
    assert "Operating System :: OS Independent" in classifiers


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


def test_comfyignore_leaves_out_dev_files_and_keeps_the_pack():
    patterns = [ln.strip() for ln in (REPO / ".comfyignore").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    for dev in ("tests/", "scripts/", ".ci/", "devkit/", "package.json", "package-lock.json", "node_modules/", "Makefile"):
        assert dev in patterns, dev
    for runtime in ("nodes", "deig_core", "web", "example_workflows", "__init__.py", "requirements.txt",
                    "pyproject.toml", "LICENSE", "README.md"):
        assert not any(p.rstrip("/") == runtime for p in patterns), runtime
