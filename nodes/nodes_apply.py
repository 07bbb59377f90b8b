"""Apply DEIG to an SD1.5 MODEL (any community checkpoint, with LoRAs before or after)."""
from __future__ import annotations

from comfy_api.latest import io

import comfy.supported_models

from .patch import Schedule, apply_deig
from .types import DEIGModelSocket


def _transformer_dims(unet) -> dict[tuple[tuple[str, int], int], int]:
    """(block, block_index) -> channels of every transformer block of a host UNet."""
    dims = {}
    groups = [("input", unet.input_blocks), ("middle", [unet.middle_block]), ("output", unet.output_blocks)]
    for kind, blocks in groups:
        for bid, block in enumerate(blocks):
            for layer in block:
                for index, tb in enumerate(getattr(layer, "transformer_blocks", [])):
                    dims[((kind, bid), index)] = tb.attn1.to_q.in_features
    return dims


def check_compatible(model_patcher, deig_patcher) -> None:
    """Raise ValueError naming the input when the MODEL is not the SD1.5 family DEIG was trained on."""
    config = model_patcher.model.model_config
    family = type(config).__name__
    if not isinstance(config, comfy.supported_models.SD15):
        raise ValueError(f"DEIG Apply: input 'model' is a {family} model; DEIG works with SD1.5-family checkpoints "
                         "(SD1.5 and its community fine-tunes), not SDXL, SD2 or others")
    unet = model_patcher.model.diffusion_model
    context_dim = config.unet_config.get("context_dim")
    ide_width = deig_patcher.model.cfg.ide.width
    if ide_width != context_dim:
        raise ValueError(f"DEIG Apply: input 'deig_model' gives a {ide_width}-wide text context but the model's "
                         f"cross-attention takes {context_dim}; the DEIG weights do not fit this UNet")
    dims = _transformer_dims(unet)
    for spec in deig_patcher.model.cfg.fusers:
        got = dims.get((spec.block, spec.index))
        if got != spec.query_dim:
            raise ValueError(f"DEIG Apply: input 'deig_model' has a fuser for {spec.official_block} with "
                             f"{spec.query_dim} channels, but the model's block has {got}; the DEIG weights do not "
                             "fit this UNet")


class DEIGApply(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_Apply",
            display_name="DEIG Apply",
            category="DEIG",
            description="Adds the DEIG fusers to an SD1.5 model and makes the prompt's IDE output its text context. "
                        "Use with DEIG Encode (positive) and DEIG Encode Negative.",
            inputs=[
                io.Model.Input("model", tooltip="An SD1.5-family model (LoRAs may be applied before or after)"),
                DEIGModelSocket.Input("deig_model", tooltip="From DEIG Model Loader"),
                io.Float.Input("strength", default=1.0, min=0.0, max=2.0, step=0.01,
                               tooltip="Fuser gate scale; 0 keeps the UNet with the IDE context but no fusers"),
                io.Float.Input("start_percent", default=0.0, min=0.0, max=1.0, step=0.01,
                               tooltip="Fraction of the sampling where the fusers start"),
                io.Float.Input("end_percent", default=1.0, min=0.0, max=1.0, step=0.01,
                               tooltip="Fraction of the sampling where the fusers stop (official alpha_type "
                                       "[a, b, c] -> end = a + b)"),
                io.Float.Input("fade_percent", default=0.0, min=0.0, max=1.0, step=0.01,
                               tooltip="Linear fade of the gate to 0 over this fraction before end_percent "
                                       "(official alpha_type [a, b, c] -> fade = b)"),
            ],
            outputs=[io.Model.Output(tooltip="A patched clone of the input model (the input is not changed); sample it with "
                                             "DEIG Encode / DEIG Encode Negative conditionings")],
        )

    @classmethod
    def execute(cls, model, deig_model, strength, start_percent, end_percent, fade_percent) -> io.NodeOutput:
        if start_percent > end_percent:  # checked here, not in validate_inputs, so the host range-checks both
            raise ValueError(f"DEIG Apply: input 'start_percent' ({start_percent}) must not exceed "
                             f"'end_percent' ({end_percent})")
        check_compatible(model, deig_model)
        schedule = Schedule(float(strength), float(start_percent), float(end_percent), float(fade_percent))
        return io.NodeOutput(apply_deig(model, deig_model, schedule))


NODES = [DEIGApply]
