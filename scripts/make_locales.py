"""Write locales/en/nodeDefs.json from the nodes' schemas (``devkit/locales.py``); translate the new or changed
strings into the other languages' nodeDefs.json by hand (tests/integration/test_locales.py names what is missing).

    python scripts/make_locales.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from devkit.comfy_env import import_pack  # noqa: E402
from devkit.locales import write_en  # noqa: E402

if __name__ == "__main__":
    import_pack()
    write_en()
