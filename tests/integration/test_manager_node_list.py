"""ComfyUI-Manager's "Install Missing Nodes" finds a pack by the node ids its scanner collects: it reads
NODE_CLASS_MAPPINGS literals (V3 nodes have none) and the ``node_list.json`` at the pack's root
(``{node id: description}``). The file must list exactly the ids the pack registers."""
import asyncio
import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

pytest.importorskip("comfy_api")

from comfyui_deig.nodes import comfy_entrypoint  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# The pattern to give the pack's entry in the Manager's custom-node-list.json (``nodename_pattern``).
NODENAME_PATTERN = r"^DEIG_"


def _registered_ids() -> set[str]:
    extension = asyncio.run(comfy_entrypoint())
    return {node.define_schema().node_id for node in asyncio.run(extension.get_node_list())}


def test_node_list_json_names_every_registered_node_id():
    listed = json.loads((REPO / "node_list.json").read_text(encoding="utf-8"))
    assert set(listed) == _registered_ids()
    assert all(isinstance(v, str) and v.strip() for v in listed.values())


def test_every_node_id_matches_the_manager_nodename_pattern():
    assert all(re.search(NODENAME_PATTERN, node_id) for node_id in _registered_ids())
