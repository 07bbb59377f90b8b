"""Parity with the official reference vectors: this pack's DEIG on the host's own UNet (``make parity``,
``scripts/parity.py``, and the integration tests).

Everything is taken from the vector pair (see ../shared/reference/README.md): the UNet, IDE and
position-net configurations from the JSON, the weights from the key-name recipe (``devkit/seeded_weights.py``), the inputs (any
batch, per-sample timesteps, slot count, text length and latent size) from the tensors. The UNet is
the host's ``UNetModel``; DEIG is attached with ``nodes.patch.apply_deig``, the same code path the
DEIG Apply node uses; the conditional and the null-grounding negative conditionings (as DEIG Encode
and DEIG Encode Negative make them) go through the host's ``calc_cond_batch`` as one sampler step.
"""
from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from .comfy_env import import_pack


def run(vectors_path: str, meta_path: str) -> dict[str, float]:
    import_pack()
    from comfyui_deig.deig_core.grounding import Grounding
    from comfyui_deig.deig_core.model import split_official
    from comfyui_deig.nodes import patch
    from comfyui_deig.nodes.nodes_encode import conditioning
    from . import sd15_unet
    from .seeded_weights import seeded_state_dict
    from comfyui_deig.nodes.nodes_loaders import deig_patcher_from_state_dict

    meta = json.load(open(meta_path))
    vec = load_file(vectors_path)
    weights = seeded_state_dict(meta["state_dict_shapes"])
    deig_sd, unet_keys, _ = split_official(weights)
    unet_sd = {k: weights[k] for k in unet_keys}

    ucfg = meta["unet_config"]
    model = sd15_unet.sd15_patcher(ucfg, unet_sd, dtype=torch.float32, device=torch.device("cpu"))
    deig = deig_patcher_from_state_dict(
        deig_sd, dtype=torch.float32, ide_heads=int(meta.get("ide_config", {}).get("heads", 8)),
        fuser_heads=int(ucfg["num_heads"]), source=meta_path)
    patched = patch.apply_deig(model, deig, patch.Schedule())
    x, t = vec["in.x"], vec["in.timesteps"]
    cond = Grounding(vec["in.context_t5"], vec["in.instance_t5"], vec["in.boxes"], vec["in.presence"] > 0.5)
    uncond = Grounding.null(vec["in.uncond_context_t5"])
    eps_cond, eps_uncond = sd15_unet.eps_through_cond_batch(patched, x, t, [conditioning(cond), conditioning(uncond)])
    return {"eps_cond": (eps_cond - vec["out.eps_cond"]).abs().max().item(),
            "eps_uncond": (eps_uncond - vec["out.eps_uncond"]).abs().max().item()}
