"""Preview node: draws the layout's boxes and numbered labels on an IMAGE, for checking layouts."""
from __future__ import annotations

import numpy as np
import torch
from comfy_api.latest import io
from PIL import Image

from ..deig_core.preview import draw_instances
from .types import LayoutSocket, layouts_of


class DEIGPreviewLayout(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_PreviewLayout",
            display_name="DEIG Preview Layout",
            category="DEIG",
            description="Draws the instance boxes and descriptions on images (as the official inference does).",
            inputs=[
                io.Image.Input("image", tooltip="Images to draw on (e.g. the decoded result)"),
                LayoutSocket.Input("layout", tooltip="The layout to draw"),
            ],
            outputs=[io.Image.Output(tooltip="The images with each box and its number and description drawn on them")],
        )

    @classmethod
    def execute(cls, image, layout) -> io.NodeOutput:
        layouts = layouts_of(layout)  # a DEIG Layout Batch: image i gets layout i (cycled)
        out = []
        for i, frame in enumerate(image):
            pil = Image.fromarray(np.clip(frame.cpu().numpy() * 255.0, 0, 255).astype(np.uint8))
            drawn = draw_instances(pil, layouts[i % len(layouts)].instances)
            out.append(torch.from_numpy(np.asarray(drawn, dtype=np.float32) / 255.0))
        return io.NodeOutput(torch.stack(out))


NODES = [DEIGPreviewLayout]
