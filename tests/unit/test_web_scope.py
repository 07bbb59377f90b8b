"""The web code keeps to its own namespace (what `comfy-test lint` asks of a pack's frontend code):
nothing lands in document.body/head without a deig- class or id, every CSS rule is scoped under a
deig- class, and no globals are put on window."""
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web" / "js"
JS = {p.relative_to(WEB).as_posix(): p.read_text(encoding="utf-8") for p in sorted(WEB.rglob("*.js"))}


def _deig_named(var: str, text: str) -> bool:
    """`var` is made with a deig- class (the editors' el(tag, cls) helper or className) or a deig- id."""
    if re.search(rf'\b{var}\s*=\s*el\("\w+",\s*"deig-', text) or re.search(rf'\b{var}\.className\s*=\s*"deig-', text):
        return True
    m = re.search(rf"\b{var}\.id\s*=\s*([\w\"-]+)", text)
    if not m:
        return False
    ident = m.group(1)
    if ident.startswith('"'):
        return ident.startswith('"deig-')
    return bool(re.search(rf'\b{ident}\s*=\s*"deig-', text))


def test_everything_added_to_body_or_head_is_namespaced():
    found = 0
    for name, text in JS.items():
        for m in re.finditer(r"document\.(body|head)\.(append|appendChild|prepend|insertBefore)\((\w+)", text):
            found += 1
            assert _deig_named(m.group(3), text), f"{name}: {m.group(0)} adds an element without a deig- class or id"
    assert found >= 2   # the stylesheet and the import/export dialog at least


def test_css_rules_are_scoped_to_the_pack():
    css = re.search(r"const CSS = `(.*?)`;", JS["editor/styles.js"], re.S).group(1)
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    selectors = [s.strip() for block in re.findall(r"([^{}]+)\{", css) for s in block.split(",")]
    # rules select .deig-* elements; container queries name a .deig-* container (container-name deig-*)
    scoped = re.compile(r"\.deig-[\w-]+|@container deig-[\w-]+\b")
    assert selectors and all(scoped.match(s) for s in selectors), [s for s in selectors if not scoped.match(s)]


def test_no_window_globals_and_ids_are_namespaced():
    for name, text in JS.items():
        assert not re.search(r"\bwindow\.\w+\s*=(?!=)", text), f"{name} sets a window global"
        assert not re.search(r"\bglobalThis\.\w+\s*=(?!=)", text), f"{name} sets a global"
        for ident in re.findall(r'getElementById\("([^"]+)"\)', text):
            assert ident.startswith("deig-"), f"{name}: element id {ident!r} is not namespaced"
