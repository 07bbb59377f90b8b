"""Preview node: draws the layout's boxes and numbered labels on an IMAGE, for checking layouts."""
from __future__ import annotations

import colorsys

import numpy as np
import torch
from comfy_api.latest import io
from PIL import Image, ImageDraw, ImageFont

from .types import Layout, LayoutSocket, layouts_of


def instance_color(i: int) -> tuple[int, int, int]:
    """The i-th instance colour (golden-ratio hues; the box editor uses the same sequence)."""
    r, g, b = colorsys.hsv_to_rgb((i * 0.618033988749895) % 1.0, 0.85, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_layout(image: Image.Image, layout: Layout) -> Image.Image:
    img = image.convert("RGB")
    draw = ImageDraw.Draw(img)
    w, h = img.size
    font = ImageFont.load_default()
    for i, inst in enumerate(layout.instances):
        x1, y1, x2, y2 = inst.box
        color = instance_color(i)
        draw.rectangle([x1 * w, y1 * h, x2 * w - 1, y2 * h - 1], outline=color, width=max(2, w // 256))
        label = f"{i + 1}: {inst.text}"[:60]
        tx, ty = x1 * w + 3, y1 * h + 2
        box = draw.textbbox((tx, ty), label, font=font)
        draw.rectangle(box, fill=(0, 0, 0))
        draw.text((tx, ty), label, fill=color, font=font)
    return img


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
            outputs=[io.Image.Output()],
        )

    @classmethod
    def execute(cls, image, layout) -> io.NodeOutput:
        layouts = layouts_of(layout)  # a DEIG Layout Batch: image i gets layout i (cycled)
        out = []
        for i, frame in enumerate(image):
            pil = Image.fromarray(np.clip(frame.cpu().numpy() * 255.0, 0, 255).astype(np.uint8))
            drawn = draw_layout(pil, layouts[i % len(layouts)])
            out.append(torch.from_numpy(np.asarray(drawn, dtype=np.float32) / 255.0))
        return io.NodeOutput(torch.stack(out))


NODES = [DEIGPreviewLayout]
