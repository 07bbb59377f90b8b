"""Layouts from boxes other nodes produce: a MASK batch (one mask per instance, e.g. from a segmenter)
or the BBOX form detector and KJNodes nodes emit ([x, y, width, height] in pixels), plus one
description per line of a text field. Each error names the line (instance) to fix."""
from __future__ import annotations

import math

import torch
from comfy_api.latest import io

from ..deig_core.layout import Instance, LayoutError, dump_layout, parse_instances
from .nodes_layout import masks_to_instances
from .types import Layout, LayoutSocket

NODE = "DEIG Layout from Boxes"
BBox = io.Custom("BBOX")


def _error(field: str, message: str) -> ValueError:
    return ValueError(f"{NODE}: input '{field}': {message}")


def description_lines(text: str) -> list[str]:
    """One description per line; blank lines at the end are ignored, a blank line before a
    description is an error naming it."""
    lines = [ln.strip() for ln in (text or "").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise _error("descriptions", "no descriptions; write one per line, in the order of the boxes")
    for i, line in enumerate(lines):
        if not line:
            raise _error("descriptions", f"line {i + 1} is empty; every box needs a description")
    return lines


def _is_box(v) -> bool:
    return isinstance(v, (list, tuple)) and len(v) == 4 and all(isinstance(c, (int, float)) for c in v)


def bbox_list(bboxes, image_index: int) -> list:
    """The [x, y, w, h] boxes of one image: a flat list of boxes (KJNodes' per-image form, or a single
    image's detections), or a list of such lists, one per image (detector batches)."""
    if isinstance(bboxes, torch.Tensor):
        bboxes = bboxes.tolist()
    if _is_box(bboxes):
        return [bboxes]
    if not isinstance(bboxes, (list, tuple)):
        raise _error("bboxes", f"expected a list of [x, y, width, height] boxes, got {type(bboxes).__name__}")
    if bboxes and all(isinstance(b, (list, tuple)) and b and not _is_box(b) for b in bboxes):
        if not 0 <= image_index < len(bboxes):
            raise _error("image_index", f"{image_index} is out of range: the bboxes hold {len(bboxes)} images")
        return list(bboxes[image_index])
    return list(bboxes)


def instances_from_bboxes(boxes: list, texts: list[str], width: int, height: int) -> list[Instance]:
    if len(boxes) != len(texts):
        raise _error("descriptions", f"{len(texts)} lines but {len(boxes)} boxes; write one line per box, in box order")
    items = []
    for i, (b, text) in enumerate(zip(boxes, texts)):
        if not _is_box(b) or not all(math.isfinite(c) for c in b):
            raise _error("bboxes", f"box {i + 1} (line {i + 1}, {text!r}) is {b!r}, not [x, y, width, height] numbers")
        x, y, w, h = (float(c) for c in b)
        if w <= 0 or h <= 0:
            raise _error("bboxes", f"box {i + 1} (line {i + 1}, {text!r}) has width {w:g} and height {h:g}; both must be > 0")
        items.append({"box": [x / width, y / height, (x + w) / width, (y + h) / height], "text": text})
    try:
        return parse_instances(items, where="bboxes")
    except LayoutError as e:   # e.g. a box entirely outside the width x height canvas
        raise _error("bboxes", f"{e} (instance N is line N; the canvas is {width}x{height} px)") from None


class LayoutFromBoxes(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_LayoutFromBoxes",
            display_name=NODE,
            category="DEIG",
            description="Builds a DEIG layout from a MASK batch (one mask per instance) or BBOX boxes "
                        "([x, y, width, height] in pixels, as detector and KJNodes nodes give), with one "
                        "description per line in the same order.",
            inputs=[
                io.String.Input("descriptions", multiline=True, default="",
                                tooltip="One instance description per line, in the order of the masks/boxes"),
                io.Mask.Input("masks", optional=True,
                              tooltip="One mask per instance; each instance attends inside its mask and its box "
                                      "is the mask's bounding box"),
                BBox.Input("bboxes", optional=True,
                           tooltip="Boxes as [x, y, width, height] in pixels of a width x height image "
                                   "(a list, or one list per image)"),
                io.Int.Input("width", default=512, min=64, max=8192, step=8,
                             tooltip="Width in pixels of the image the bboxes refer to (ignored for masks)"),
                io.Int.Input("height", default=512, min=64, max=8192, step=8,
                             tooltip="Height in pixels of the image the bboxes refer to (ignored for masks)"),
                io.Int.Input("image_index", default=0, min=0, max=4096,
                             tooltip="With one list of bboxes per image: which image's boxes to use"),
            ],
            outputs=[LayoutSocket.Output(display_name="layout", tooltip="The boxes (or mask regions) and their descriptions"),
                     io.String.Output(display_name="layout_json", tooltip="The layout as the box editor's JSON")],
        )

    @classmethod
    def execute(cls, descriptions, width, height, image_index=0, masks=None, bboxes=None) -> io.NodeOutput:
        if (masks is None) == (bboxes is None):
            raise _error("masks", "connect either masks or bboxes (exactly one of them)")
        texts = description_lines(descriptions)
        if masks is not None:
            m = masks if masks.ndim == 3 else masks[None]
            if m.shape[0] != len(texts):
                raise _error("descriptions", f"{len(texts)} lines but {m.shape[0]} masks; write one line per mask, in mask order")
            placeholders = [Instance(box=(0.0, 0.0, 1.0, 1.0), text=t) for t in texts]
            try:
                instances, region = masks_to_instances(placeholders, m, node=NODE)
            except ValueError as e:
                raise ValueError(f"{e} (mask N is line N)") from None
            layout = Layout(tuple(instances), region)
        else:
            instances = instances_from_bboxes(bbox_list(bboxes, image_index), texts, int(width), int(height))
            layout = Layout(tuple(instances))
        return io.NodeOutput(layout, dump_layout(layout.instances))


NODES = [LayoutFromBoxes]
