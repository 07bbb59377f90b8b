"""Make the README's pictures from the real editor and frontend (no invented results):

* ``docs/images/drawing_a_layout.webp``: an animation of drawing two boxes in the box editor and typing
  their descriptions, recorded frame by frame in headless Chromium (``scripts/readme_pictures.mjs``)
* ``docs/images/typical_graph.png``: the three-person example workflow as ComfyUI shows it

    python scripts/make_readme_pictures.py

Starts its own ComfyUI (frontend 1.32.9, the example workflows' model files as random-weight stand-ins) and
stops it. Nothing in the pictures comes from sampling.
"""
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from PIL import Image  # noqa: E402

from devkit.browser import run_browser_script  # noqa: E402
from devkit.comfy_env import import_pack  # noqa: E402
from devkit.server import ComfyServer  # noqa: E402

OUT = REPO / "docs" / "images"
FRAME_MS = 160       # one frame time; a frame named NNN_<hold>.png stays <hold> frame times
ANIMATION_WIDTH = 480
GRAPH_WIDTH = 1200


def assemble(frames_dir: Path, dest: Path) -> None:
    frames, durations = [], []
    for path in sorted(frames_dir.glob("*.png")):
        img = Image.open(path).convert("RGB")
        img = img.resize((ANIMATION_WIDTH, round(img.height * ANIMATION_WIDTH / img.width)), Image.LANCZOS)
        frames.append(img)
        durations.append(FRAME_MS * int(path.stem.split("_")[1]))
    frames[0].save(dest, save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   format="WEBP", quality=70, method=6)


def models(tmp: Path) -> Path:
    """The example workflows' model files (random weights, real formats), so the editor lists none missing."""
    from devkit.example_models import install_example_models   # after import_pack: it needs the pack

    root = tmp / "models"
    root.mkdir()
    install_example_models(root)
    return root


def main() -> None:
    import_pack()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, ComfyServer(Path(tmp) / "server", models_dir=models(Path(tmp))) as server:
        art = Path(tmp) / "art"
        result = run_browser_script(REPO / "scripts" / "readme_pictures.mjs", server.base_url, art, timeout=600)
        if "error" in result:
            raise SystemExit(result["error"])
        assemble(art / "frames", OUT / "drawing_a_layout.webp")
        graph = Image.open(art / "typical_graph.png").convert("RGB")
        graph = graph.resize((GRAPH_WIDTH, round(graph.height * GRAPH_WIDTH / graph.width)), Image.LANCZOS)
        graph.save(OUT / "typical_graph.png", optimize=True)
    for name in ("drawing_a_layout.webp", "typical_graph.png"):
        print(f"{OUT / name}: {(OUT / name).stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
