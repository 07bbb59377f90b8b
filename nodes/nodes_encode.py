"""Encode nodes: prompt + instance layout -> CONDITIONING carrying the DEIG grounding.

The CONDITIONING tensor is a valid SD1.5-shaped placeholder (77 x 768, seeded from the grounding) so that
other conditioning nodes accept it; a DEIG-patched model replaces it at every step by the IDE output of
the prompt, before ControlNet or the UNet read it, and refuses it when another node changed it. The DEIG
data rides in ``model_conds["deig"]`` and is batched by the host per cond/uncond chunk.
"""
from __future__ import annotations

import zlib

import torch
from comfy_api.latest import io

from ..deig_core.grounding import Grounding
from .patch import KEY, DEIGCond
from .types import Layout, LayoutSocket, T5EncoderSocket, layouts_of

SD15_CONTEXT = (77, 768)


def placeholder(grounding: Grounding) -> torch.Tensor:
    """A context-shaped tensor unique to this grounding (equal groundings give equal tensors)."""
    digest = 0
    for t in (grounding.context_t5, grounding.instance_t5, grounding.boxes):
        digest = zlib.crc32(t.detach().float().cpu().numpy().tobytes(), digest)
    return torch.randn(1, *SD15_CONTEXT, generator=torch.Generator().manual_seed(digest))


def conditioning(grounding: Grounding):
    text = placeholder(grounding)
    return [[text, {"model_conds": {KEY: DEIGCond(grounding, text.clone())}}]]


def layout_grounding(t5, prompt: str, layout: Layout) -> Grounding:
    texts = [prompt] + [inst.text for inst in layout.instances]
    feats = t5.encode(texts)
    n = len(layout.instances)
    boxes = torch.tensor([list(inst.box) for inst in layout.instances], dtype=torch.float32).reshape(1, n, 4)
    masks = (layout.masks,) if layout.masks is not None else ()
    return Grounding(feats[:1], feats[1:][None], boxes, torch.ones(1, n, dtype=torch.bool), masks)


class DEIGEncode(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_Encode",
            display_name="DEIG Encode",
            category="DEIG",
            description="Global prompt + instance layout -> positive conditioning for a DEIG-patched model.",
            inputs=[
                T5EncoderSocket.Input("t5", tooltip="From DEIG T5 Encoder Loader"),
                io.String.Input("prompt", multiline=True, default="",
                                tooltip="Global prompt describing the whole image (Flan-T5, up to 128 tokens)"),
                LayoutSocket.Input("layout", tooltip="Boxes and per-instance descriptions (DEIG Instance Layout); a "
                                                     "DEIG Layout Batch of N needs a latent batch of N"),
            ],
            outputs=[io.Conditioning.Output(tooltip="Positive conditioning: the prompt's T5 encoding and the instances "
                                                     "(for a DEIG-patched model only)")],
        )

    @classmethod
    def execute(cls, t5, prompt, layout) -> io.NodeOutput:
        groundings = [layout_grounding(t5, prompt, lay) for lay in layouts_of(layout)]
        return io.NodeOutput(conditioning(Grounding.concat(groundings) if len(groundings) > 1 else groundings[0]))


class DEIGEncodeNegative(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_EncodeNegative",
            display_name="DEIG Encode Negative",
            category="DEIG",
            description="Negative prompt -> negative conditioning with the null grounding (no instances).",
            inputs=[
                T5EncoderSocket.Input("t5", tooltip="From DEIG T5 Encoder Loader"),
                io.String.Input("negative", multiline=True, default="",
                                tooltip="Negative prompt. The official inference's default is 'longbody, lowres, "
                                        "distorted face, bad anatomy, bad hands, missing fingers, extra digit, fewer "
                                        "digits, cropped, worst quality, low quality'"),
            ],
            outputs=[io.Conditioning.Output(tooltip="Negative conditioning: the negative prompt with no instances "
                                                     "(for a DEIG-patched model only)")],
        )

    @classmethod
    def execute(cls, t5, negative) -> io.NodeOutput:
        return io.NodeOutput(conditioning(Grounding.null(t5.encode([negative]))))


NODES = [DEIGEncode, DEIGEncodeNegative]
