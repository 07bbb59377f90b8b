"""The host's own SD1.5 model called directly (for `make parity`, `make bench`, tests): built from an
LDM-style UNet config, and given the transformer options a sampler would pass it.

ComfyUI's checkpoint detection only accepts full-width SD1.5 UNets, so narrower reference
configurations are built directly through ``comfy.supported_models.SD15``.
"""
from __future__ import annotations

import torch

from comfyui_deig.deig_core.unet_layout import unet_layout


def host_unet_config(c: dict, dtype=torch.float32) -> dict:
    """Translate ``attention_resolutions``/``transformer_depth`` into the host's per-block depth lists."""
    layout = unet_layout(c)
    mults, nrb = list(c["channel_mult"]), int(c["num_res_blocks"])
    return {
        "use_checkpoint": False, "image_size": int(c.get("image_size", 32)), "use_spatial_transformer": True,
        "legacy": False, "adm_in_channels": None, "in_channels": int(c["in_channels"]),
        "out_channels": int(c["out_channels"]), "model_channels": int(c["model_channels"]),
        "num_res_blocks": [nrb] * len(mults), "transformer_depth": list(layout.depth_in), "channel_mult": mults,
        "transformer_depth_middle": layout.depth_middle, "use_linear_in_transformer": False,
        "context_dim": int(c["context_dim"]), "num_heads": int(c["num_heads"]), "num_head_channels": -1,
        "transformer_depth_output": list(layout.depth_out[::-1]), "use_temporal_attention": False,
        "use_temporal_resblock": False, "dtype": dtype,
    }


def sd15_patcher(ldm_config: dict, unet_state_dict: dict | None = None, dtype=torch.float32, device=None):
    """A ModelPatcher around the host's SD1.5 BaseModel with the given (possibly narrow) UNet."""
    import comfy.model_management
    import comfy.model_patcher
    import comfy.supported_models

    model_config = comfy.supported_models.SD15(host_unet_config(ldm_config, dtype))
    model_config.set_inference_dtype(dtype, None)
    device = device or comfy.model_management.get_torch_device()
    model = model_config.get_model({}, device="cpu")
    if unet_state_dict is not None:
        missing, unexpected = model.diffusion_model.load_state_dict(unet_state_dict, strict=False)
        if missing or unexpected:
            raise ValueError(f"UNet weights do not fit the config: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.diffusion_model.to(dtype)
    return comfy.model_patcher.ModelPatcher(model, load_device=device,
                                            offload_device=comfy.model_management.unet_offload_device())


def transformer_options_for_call(model_patcher) -> dict:
    """transformer_options as the sampler assembles them for a call (patches plus wrappers)."""
    import comfy.patcher_extension

    options = comfy.patcher_extension.copy_nested_dicts(model_patcher.model_options)
    comfy.patcher_extension.merge_nested_dicts(options["transformer_options"].setdefault("wrappers", {}),
                                               model_patcher.wrappers, copy_dict1=False)
    return options["transformer_options"]


def eps_through_cond_batch(model_patcher, x: torch.Tensor, timesteps: torch.Tensor, conditionings: list,
                           load_models: bool = True) -> list:
    """The UNet's eps at DDPM ``timesteps`` for each CONDITIONING, computed as one sampler step computes it:
    the host's ``process_conds`` and ``calc_cond_batch`` (with every wrapper) on the model's own input
    for those timesteps, all conditionings in one cond batch; eps is read back from the denoised output.
    ``load_models=False`` leaves the models as the caller loaded them (the host's loading would load
    them fully on a CPU)."""
    import comfy.patcher_extension
    import comfy.sampler_helpers
    import comfy.samplers

    conds = {str(i): comfy.sampler_helpers.convert_cond(c) for i, c in enumerate(conditionings)}
    model_options = comfy.patcher_extension.copy_nested_dicts(model_patcher.model_options)
    model_options["transformer_options"] = transformer_options_for_call(model_patcher)
    if load_models:
        model, conds, loaded = comfy.sampler_helpers.prepare_sampling(model_patcher, x.shape, conds, model_options)
    else:
        model, loaded = model_patcher.model, []
    ms = model.model_sampling
    sigma = ms.sigma(timesteps.float()).to(x.device)
    x_in = x * (sigma ** 2 + 1).sqrt().reshape(-1, 1, 1, 1)  # what calculate_input divides back out
    conds = comfy.samplers.process_conds(model, x_in, conds, x.device)
    try:
        model_patcher.pre_run()
        with torch.no_grad():
            denoised = comfy.samplers.calc_cond_batch(model, [conds[str(i)] for i in range(len(conditionings))],
                                                      x_in, sigma, model_options)
    finally:
        model_patcher.cleanup()
        comfy.sampler_helpers.cleanup_models(conds, loaded)
    return [(x_in - d) / sigma.reshape(-1, 1, 1, 1) for d in denoised]
