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


def _fitted(draw: ImageDraw.ImageDraw, label: str, font, max_width: float) -> str:
    """``label``, or its longest start that fits in ``max_width`` pixels with "..." after it."""
    if draw.textlength(label, font=font) <= max_width:
        return label
    cut = len(label)
    while cut > 1 and draw.textlength(label[:cut] + "...", font=font) > max_width:
        cut -= 1
    return label[:cut] + "..."


def draw_instances(image: Image.Image, instances: Iterable[Instance]) -> Image.Image:
    """A copy of ``image`` (as RGB) with each instance's box outlined in its colour and labelled
    ``"<n>: <description>"`` (first 60 characters) on a black tag at its top-left corner. A tag stays
    inside the picture: a label too long for the room right of the corner is cut (ending in "..."), and
    a tag at the right or bottom edge moves left or up."""
    img = image.convert("RGB")
    draw = ImageDraw.Draw(img)
    w, h = img.size
    font = ImageFont.load_default()
    for i, inst in enumerate(instances):
        x1, y1, x2, y2 = inst.box
        color = instance_color(i)
        # a box under a pixel or two wide (tiny pictures) is still drawn, as a pixel-wide outline
        draw.rectangle([x1 * w, y1 * h, max(x1 * w, x2 * w - 1), max(y1 * h, y2 * h - 1)], outline=color,
                       width=max(2, w // 256))
        tx, ty = x1 * w + 3, y1 * h + 2
        # cut to the room right of the box's corner; where not even "<n>: ..." fits, the tag moves left
        room = max(w - 2 - tx, min(draw.textlength(f"{i + 1}: ...", font=font), w - 3))
        label = _fitted(draw, f"{i + 1}: {inst.text}"[:60], font, room)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        # the text's origin, moved left/up as far as it takes the tag to end a pixel inside the picture
        tx = max(-left, min(tx, w - 2 - right))
        ty = max(-top, min(ty, h - 2 - bottom))
        draw.rectangle(draw.textbbox((tx, ty), label, font=font), fill=(0, 0, 0))
        draw.text((tx, ty), label, fill=color, font=font)
    return img
