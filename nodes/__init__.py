"""ComfyUI glue for DEIG: one module per family of nodes, collected into one V3 extension."""
from typing_extensions import override

from comfy_api.latest import ComfyExtension, io

from . import nodes_layout, nodes_loaders


class DEIGExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [*nodes_layout.NODES, *nodes_loaders.NODES]


async def comfy_entrypoint() -> DEIGExtension:
    return DEIGExtension()
