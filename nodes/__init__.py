"""ComfyUI glue for DEIG: one module per family of nodes, collected into one V3 extension."""
import sys

from typing_extensions import override

from comfy_api.latest import ComfyExtension, io

from . import (nodes_apply, nodes_batch, nodes_encode, nodes_gligen, nodes_layout, nodes_layout_boxes,
               nodes_layout_files, nodes_loaders, nodes_preview, routes)


def _register_routes() -> None:
    """Inside a running ComfyUI the host's ``server`` module is loaded and holds the PromptServer
    before custom nodes are imported; elsewhere (tests importing the nodes) there is nothing to do."""
    prompt_server = getattr(sys.modules.get("server"), "PromptServer", None)
    if getattr(prompt_server, "instance", None) is not None:
        routes.register(prompt_server.instance.routes)


_register_routes()


class DEIGExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [*nodes_loaders.NODES, *nodes_layout.NODES, *nodes_layout_files.NODES, *nodes_layout_boxes.NODES,
                *nodes_batch.NODES, *nodes_encode.NODES, *nodes_apply.NODES, *nodes_preview.NODES,
                *nodes_gligen.NODES]


async def comfy_entrypoint() -> DEIGExtension:
    return DEIGExtension()
