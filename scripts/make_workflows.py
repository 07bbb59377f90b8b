"""Write the example workflows (JSON + .jpg thumbnails) in example_workflows/ from their descriptions in ``devkit/example_workflows.py``.

    python scripts/make_workflows.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from devkit.comfy_env import import_pack  # noqa: E402
from devkit.example_workflows import write_all  # noqa: E402

if __name__ == "__main__":
    import_pack()   # the thumbnails are drawn by the pack's own comfyui_deig.deig_core.preview
    write_all()
