"""Synthetic stand-ins named exactly as the example workflows expect them.

``install_example_models(root)`` fills a ComfyUI models tree with: the full-size synthetic SD1.5
checkpoint under the names the workflows use, a small SD1.5 LoRA, a full-size SD1.5 ControlNet, the tiny T5 folder as
``text_encoders/flan-t5-xl`` and DEIG weights (official key layout, full-size fusers, narrow IDE)
as ``deig/model.pth`` (the released file's name and pickle layout, which the workflows load) and
``deig/deig.safetensors`` (the converted form), and a full-size GLIGEN textbox model as
``gligen/gligen_sd14_textbox_pruned.safetensors``. Everything is cached and linked, built once.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from . import paths
from .cache import cached_build
from .synthetic_models import (_link, gligen_textbox, populate_models_tree, sd15_checkpoint, sd15_controlnet,
                               synthetic_deig_config, synthetic_deig_state_dict, t5_encoder_dir)

CHECKPOINTS = ("v1-5-pruned-emaonly-fp16.safetensors", "realisticVisionV60B1_v51VAE.safetensors")
LORA = "add_detail.safetensors"
CONTROLNET = "control_v11p_sd15_openpose.safetensors"
DEIG = "deig.safetensors"
DEIG_RELEASE = "model.pth"
T5 = "flan-t5-xl"
GLIGEN = "gligen_sd14_textbox_pruned.safetensors"
VERSION = 2


def deig_weights(seed: int = 0) -> Path:
    """Synthetic DEIG weights (fp16) that fit the full-size SD1.5 UNet and the tiny T5."""
    def build(out: Path) -> None:
        d_model = json.loads((t5_encoder_dir() / "config.json").read_text())["d_model"]
        sd = {k: v.half() for k, v in synthetic_deig_state_dict(synthetic_deig_config(text_dim=d_model)).items()}
        save_file(sd, str(out), metadata={"format": "deig-comfyui", "note": "synthetic test weights"})

    return cached_build(paths.models_cache_dir() / f"deig_synthetic_v{VERSION}.safetensors", build,
                        "synthetic DEIG weights")


def deig_release_weights() -> Path:
    """The synthetic DEIG weights as the release ships them: a torch.save'd ``{"model": state dict}``."""
    from safetensors.torch import load_file

    def build(out: Path) -> None:
        torch.save({"model": load_file(str(deig_weights())), "autoencoder": {}, "diffusion": {}}, out)

    return cached_build(paths.models_cache_dir() / f"deig_synthetic_v{VERSION}.pth", build,
                        "synthetic DEIG release weights")


def sd15_lora(seed: int = 0) -> Path:
    """A small kohya-style LoRA on the cross-attention queries of the SD1.5 UNet."""
    def build(out: Path) -> None:
        g = torch.Generator().manual_seed(seed)
        blocks = {"input_blocks_1_1": 320, "input_blocks_4_1": 640, "middle_block_1": 1280, "output_blocks_11_1": 320}
        sd = {}
        for block, dim in blocks.items():
            name = f"lora_unet_{block}_transformer_blocks_0_attn2_to_q"
            sd[f"{name}.lora_up.weight"] = (torch.randn(dim, 4, generator=g) * 0.05).half()
            sd[f"{name}.lora_down.weight"] = (torch.randn(4, dim, generator=g) * 0.05).half()
            sd[f"{name}.alpha"] = torch.tensor(4.0).half()
        save_file(sd, str(out))

    return cached_build(paths.models_cache_dir() / f"deig_synthetic_lora_v{VERSION}.safetensors", build,
                        "synthetic SD1.5 LoRA")


def install_example_models(root: Path) -> Path:
    root = Path(root)
    populate_models_tree(root)
    for name in CHECKPOINTS:
        _link(sd15_checkpoint(), root / "checkpoints" / name)
    _link(sd15_lora(), root / "loras" / LORA)
    _link(t5_encoder_dir(), root / "text_encoders" / T5)
    _link(deig_weights(), root / "deig" / DEIG)
    _link(deig_release_weights(), root / "deig" / DEIG_RELEASE)
    (root / "controlnet").mkdir(exist_ok=True)
    _link(sd15_controlnet(), root / "controlnet" / CONTROLNET)
    _link(gligen_textbox(), root / "gligen" / GLIGEN)
    return root


def install_example_inputs(input_dir: Path) -> Path:
    """The input images the example workflows name (a dark pose image for the ControlNet example)."""
    from PIL import Image

    from .example_workflows import POSE_IMAGE

    path = Path(input_dir) / POSE_IMAGE
    Image.new("RGB", (64, 64), (20, 20, 20)).save(path)
    return path
