"""Layout nodes: the box-editor node and DEIG-Bench import/export."""
import logging
import torch
from comfy_api.latest import io, ui

from ..deig_core.layout import TRAINED_MAX_INSTANCES, Instance, LayoutError, dump_layout, parse_layout
from ..deig_core.layout_files import entry_at, parse_layout_document
from .types import Layout, LayoutSocket

log = logging.getLogger(__name__)


def _node_error(node: str, field: str, err: Exception) -> ValueError:
    return ValueError(f"{node}: input '{field}': {err}")


class InstanceLayout(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_InstanceLayout",
            display_name="DEIG Instance Layout",
            category="DEIG",
            description="Boxes with one detailed description each; draw them in the editor on the node.",
            inputs=[
                io.String.Input("layout", default="[]", multiline=True,
                                tooltip='JSON list of {"box": [x1, y1, x2, y2] normalised 0..1, "text": "..."}; '
                                        "edited by the box editor on this node"),
                io.Int.Input("width", default=512, min=64, max=8192, step=8,
                             tooltip="Width of the editor's canvas when no latent or image is connected "
                                     "(only its aspect matters: boxes are normalised)"),
                io.Int.Input("height", default=512, min=64, max=8192, step=8,
                             tooltip="Height of the editor's canvas when no latent or image is connected "
                                     "(only its aspect matters: boxes are normalised)"),
                io.Mask.Input("masks", optional=True,
                              tooltip="Optional region masks, one per instance in layout order; each instance then "
                                      "attends only inside its mask, and its box is the mask's bounding box"),
            ],
            outputs=[LayoutSocket.Output(display_name="layout", tooltip="The boxes and their descriptions, for DEIG Encode")],
        )

    @classmethod
    def validate_inputs(cls, layout):
        # Only 'layout' is named: the host range-checks width and height itself. A linked layout
        # arrives here as None (its value exists only at execution) and is checked in execute.
        if layout is None:
            return True
        try:
            parse_layout(layout)
        except LayoutError as e:
            return f"DEIG Instance Layout: input 'layout': {e}"
        return True

    @classmethod
    def execute(cls, layout, width, height, masks=None) -> io.NodeOutput:
        try:
            instances = parse_layout(layout)
        except LayoutError as e:
            raise _node_error("DEIG Instance Layout", "layout", e) from None
        if len(instances) > TRAINED_MAX_INSTANCES:
            log.warning("DEIG Instance Layout: %d instances; DEIG was trained with up to %d, expect weaker control",
                        len(instances), TRAINED_MAX_INSTANCES)
        if masks is not None:
            instances, masks = masks_to_instances(instances, masks)
        return io.NodeOutput(Layout(tuple(instances), masks))


def masks_to_instances(instances: list[Instance], masks: torch.Tensor, node: str = "DEIG Instance Layout"):
    """Each instance's box becomes its mask's bounding box; returns (instances, binary masks)."""
    masks = masks.float()
    if masks.ndim == 2:
        masks = masks[None]
    if masks.shape[0] != len(instances):
        raise ValueError(f"{node}: input 'masks' has {masks.shape[0]} masks but the layout has "
                         f"{len(instances)} instances; give one mask per instance, in layout order")
    out = []
    h, w = masks.shape[-2:]
    for i, (inst, m) in enumerate(zip(instances, masks)):
        ys, xs = torch.nonzero(m > 0.5, as_tuple=True)
        if len(ys) == 0:
            raise ValueError(f"{node}: input 'masks': mask {i + 1} ({inst.text[:40]!r}) is empty")
        box = (xs.min().item() / w, ys.min().item() / h, (xs.max().item() + 1) / w, (ys.max().item() + 1) / h)
        out.append(Instance(box=box, text=inst.text))
    return out, (masks > 0.5).float()


class LayoutFromBench(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_LayoutFromBench",
            display_name="DEIG Layout from DEIG-Bench",
            category="DEIG",
            description="Reads one entry of a DEIG-Bench JSON (deig_bench_coco.json format).",
            inputs=[
                io.String.Input("bench_json", multiline=True, default="",
                                tooltip="Contents of a DEIG-Bench file ({'results': [...]}) or one entry; "
                                        "any layout file the Layouts-from-File nodes read works too"),
                io.Int.Input("index", default=0, min=0, max=100000, tooltip="Which entry to use (0-based)"),
            ],
            outputs=[LayoutSocket.Output(display_name="layout", tooltip="The entry's boxes and descriptions"),
                     io.String.Output(display_name="caption", tooltip="The entry's caption (a prompt for DEIG Encode)"),
                     io.String.Output(display_name="layout_json", tooltip="The entry as the box editor's JSON")],
        )

    @classmethod
    def execute(cls, bench_json, index) -> io.NodeOutput:
        try:
            entry = entry_at(parse_layout_document(bench_json, where="bench_json"), index)
        except LayoutError as e:
            raise _node_error("DEIG Layout from DEIG-Bench", "bench_json", e) from None
        return io.NodeOutput(Layout(entry.instances), entry.caption, dump_layout(entry.instances))


class LayoutToJSON(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_LayoutToJSON",
            display_name="DEIG Layout to JSON",
            category="DEIG",
            description="Exports a layout as the JSON the box editor reads (paste it into another layout node).",
            inputs=[LayoutSocket.Input("layout", tooltip="The layout to export")],
            outputs=[io.String.Output(display_name="layout_json", tooltip="The layout as the box editor's JSON")],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, layout: Layout) -> io.NodeOutput:
        if not isinstance(layout, Layout):
            raise ValueError("DEIG Layout to JSON: input 'layout' is a DEIG Layout Batch; export each layout on its "
                             "own (connect the batch's layout_list output to run once per layout)")
        text = dump_layout(layout.instances)
        return io.NodeOutput(text, ui=ui.PreviewText(text))


NODES = [InstanceLayout, LayoutFromBench, LayoutToJSON]
