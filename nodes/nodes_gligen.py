"""The paper's baseline beside DEIG: a pack layout as ComfyUI's own GLIGEN conditioning, so the same layout
(file) runs through a GLIGEN workflow (GLIGEN model from the stock GLIGENLoader) and the same runner and
scorer compare the two on one checkpoint."""
from __future__ import annotations

import logging

from comfy_api.latest import io

from .types import LayoutBatch, LayoutSocket

log = logging.getLogger(__name__)
NODE = "DEIG Layout to GLIGEN"
GLIGEN_MAX_BOXES = 30  # comfy.gligen.Gligen.max_objs: the positions it embeds


def latent_cells(box, width_cells: int, height_cells: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) in latent cells (8 pixels, GLIGEN's unit in ComfyUI) of a normalised box:
    its corners rounded to the nearest cell, at least one cell wide and high, inside the latent."""
    x1, y1, x2, y2 = box
    x = min(round(x1 * width_cells), width_cells - 1)
    y = min(round(y1 * height_cells), height_cells - 1)
    return x, y, max(round(x2 * width_cells) - x, 1), max(round(y2 * height_cells) - y, 1)


class LayoutToGLIGEN(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_LayoutToGLIGEN",
            display_name=NODE,
            category="DEIG",
            description="Adds every instance of a DEIG layout to the conditioning as a GLIGEN text box, as one "
                        "GLIGENTextBoxApply node per instance would (box in latent cells of the latent's size, "
                        "the instance's text encoded by the CLIP): the GLIGEN baseline with the same layouts.",
            inputs=[
                io.Conditioning.Input("conditioning", tooltip="The positive conditioning (the caption's)"),
                io.Clip.Input("clip", tooltip="The checkpoint's CLIP, which encodes each instance's text"),
                io.Gligen.Input("gligen", tooltip="A GLIGEN textbox model from the stock GLIGEN Loader "
                                                  "(e.g. gligen_sd14_textbox_pruned.safetensors in models/gligen)"),
                LayoutSocket.Input("layout", tooltip="The layout (at most 30 instances: GLIGEN's limit)"),
                io.Latent.Input("latent", tooltip="The latent that is sampled: its size places the boxes"),
            ],
            outputs=[io.Conditioning.Output(tooltip="The conditioning with every instance as a GLIGEN text box: the "
                                                              "positive input of the sampler")],
        )

    @classmethod
    def execute(cls, conditioning, clip, gligen, layout, latent) -> io.NodeOutput:
        if isinstance(layout, LayoutBatch):
            raise ValueError(f"{NODE}: input 'layout' is a layout batch; GLIGEN conditions every sample alike, "
                             f"give one layout (queue the batch's layouts one at a time)")
        if len(layout.instances) > GLIGEN_MAX_BOXES:
            raise ValueError(f"{NODE}: input 'layout' has {len(layout.instances)} instances; GLIGEN takes at most "
                             f"{GLIGEN_MAX_BOXES}")
        if layout.masks is not None:
            log.warning("%s: GLIGEN uses each instance's box (its mask's bounding box), not the mask", NODE)
        from nodes import GLIGENTextBoxApply  # the host's nodes.py (ComfyUI has imported it before any pack)

        height_cells, width_cells = latent["samples"].shape[-2:]
        apply = GLIGENTextBoxApply()
        for inst in layout.instances:
            x, y, w, h = latent_cells(inst.box, width_cells, height_cells)
            (conditioning,) = apply.append(conditioning, clip, gligen, inst.text, w * 8, h * 8, x * 8, y * 8)
        return io.NodeOutput(conditioning)


NODES = [LayoutToGLIGEN]
