"""Drawing a layout: numbered, coloured boxes with their descriptions on a picture.

The DEIG Preview Layout node draws on generated images with it. The box editor in the browser and the
example workflows' thumbnails (``devkit/thumbnails.py``) use the same colour sequence (``instance_color``).
"""
from __future__ import annotations

import colorsys
from typing import Iterable

from PIL import Image, ImageDraw, ImageFont

from .layout import Instance


def instance_color(i: int) -> tuple[int, int, int]:
    """The i-th instance colour (golden-ratio hues; the box editor uses the same sequence)."""
    r, g, b = colorsys.hsv_to_rgb((i * 0.618033988749895) % 1.0, 0.85, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_instances(image: Image.Image, instances: Iterable[Instance]) -> Image.Image:
    """A copy of ``image`` (as RGB) with each instance's box outlined in its colour and labelled
    ``"<n>: <description>"`` (first 60 characters) on a black tag at its top-left corner."""
    img = image.convert("RGB")
    draw = ImageDraw.Draw(img)
    w, h = img.size
    font = ImageFont.load_default()
    for i, inst in enumerate(instances):
        x1, y1, x2, y2 = inst.box
        color = instance_color(i)
        draw.rectangle([x1 * w, y1 * h, x2 * w - 1, y2 * h - 1], outline=color, width=max(2, w // 256))
        label = f"{i + 1}: {inst.text}"[:60]
        tx, ty = x1 * w + 3, y1 * h + 2
        box = draw.textbbox((tx, ty), label, font=font)
        draw.rectangle(box, fill=(0, 0, 0))
        draw.text((tx, ty), label, fill=color, font=font)
    return img
