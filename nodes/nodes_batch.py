"""Several layouts at once: a batch (layout i on latent sample i, one batched UNet call per step) or a
list (ComfyUI runs the downstream graph once per layout)."""
from __future__ import annotations

from comfy_api.latest import io

from .types import LayoutBatch, LayoutSocket, layouts_of


class LayoutBatchNode(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_LayoutBatch",
            display_name="DEIG Layout Batch",
            category="DEIG",
            description="Joins layouts into a batch: with DEIG Encode and a latent batch of the same size, sample i "
                        "follows layout i in one sampling. The list output instead runs the graph once per layout.",
            inputs=[
                LayoutSocket.Input("layout_1", tooltip="Layout of sample 1 (a batch is taken as it is)"),
                LayoutSocket.Input("layout_2", tooltip="Layout of sample 2 (a batch is taken as it is)"),
                LayoutSocket.Input("layout_3", optional=True, tooltip="Optional further layout"),
                LayoutSocket.Input("layout_4", optional=True, tooltip="Optional further layout"),
            ],
            outputs=[LayoutSocket.Output(display_name="layout_batch",
                                          tooltip="The layouts as one batch: sample i of a latent batch follows layout i"),
                     LayoutSocket.Output(display_name="layout_list", is_output_list=True,
                                         tooltip="The layouts as a list: the nodes after it run once per layout")],
        )

    @classmethod
    def execute(cls, layout_1, layout_2, layout_3=None, layout_4=None) -> io.NodeOutput:
        layouts = tuple(lay for value in (layout_1, layout_2, layout_3, layout_4) if value is not None
                        for lay in layouts_of(value))
        return io.NodeOutput(LayoutBatch(layouts), list(layouts))


NODES = [LayoutBatchNode]
