"""The pack's ``locales/<lang>/nodeDefs.json``: ComfyUI serves a pack's ``locales/`` (``GET /i18n``, merged into
the frontend's messages under ``nodeDefs``) and the frontend shows those names and tooltips in the user's
language. The English file is written from the nodes' own schemas (``python scripts/make_locales.py``), so
it says exactly what the nodes say; other languages are translated by hand and must have the same keys
(``tests/integration/test_locales.py``).
"""
from __future__ import annotations

import asyncio
import json

from . import paths

LOCALES = paths.REPO_ROOT / "locales"
LANGUAGES = ("en", "zh")


def node_classes() -> list:
    from comfyui_deig.nodes import comfy_entrypoint

    extension = asyncio.run(comfy_entrypoint())
    return asyncio.run(extension.get_node_list())


def node_defs_en() -> dict:
    """nodeDefs in the frontend's shape: {node_id: {display_name, description, inputs: {id: {name, tooltip}},
    outputs: {index: {name, tooltip}}}} from the schemas (an output without a display name is named by its type)."""
    defs = {}
    for cls in node_classes():
        schema = cls.define_schema()
        defs[schema.node_id] = {
            "display_name": schema.display_name,
            "description": schema.description,
            "inputs": {i.id: {"name": i.display_name or i.id, "tooltip": i.tooltip} for i in schema.inputs},
            "outputs": {str(n): {"name": o.display_name or o.io_type, "tooltip": o.tooltip}
                        for n, o in enumerate(schema.outputs)},
        }
    return defs


def dumps(defs: dict) -> str:
    return json.dumps(defs, ensure_ascii=False, indent=2) + "\n"


def read(lang: str) -> dict:
    return json.loads((LOCALES / lang / "nodeDefs.json").read_text(encoding="utf-8"))


def write_en() -> None:
    (LOCALES / "en").mkdir(parents=True, exist_ok=True)
    (LOCALES / "en" / "nodeDefs.json").write_text(dumps(node_defs_en()), encoding="utf-8")
