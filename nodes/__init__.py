"""ComfyUI glue for DEIG: one module per family of nodes, collected into one V3 extension."""
from typing_extensions import override

from comfy_api.latest import ComfyExtension, io

from . import nodes_apply, nodes_batch, nodes_encode, nodes_layout, nodes_loaders, nodes_preview


class DEIGExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [*nodes_loaders.NODES, *nodes_layout.NODES, *nodes_batch.NODES, *nodes_encode.NODES, *nodes_apply.NODES,
                *nodes_preview.NODES]


async def comfy_entrypoint() -> DEIGExtension:
    return DEIGExtension()
