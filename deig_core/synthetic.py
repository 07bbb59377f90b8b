"""Small DEIG weights in the official key layout, for tests and the demo (no real weights here).

The fusers follow a real UNet layout (full-size SD1.5 by default, so they fit a community
checkpoint's blocks) and the IDE's output width is the UNet's context width (its output replaces
CLIP's); the IDE is otherwise shallow (one layer, a narrow time embedding) and the object tokens are
narrow. Values come from ``recipe.py``.
"""
from __future__ import annotations

import torch

from .ide import IDEConfig
from .model import DEIGConfig, DEIGModel, FuserSpec
from .position_net import PositionNetConfig
from .recipe import recipe_state_dict
from .unet_layout import SD15_UNET, unet_layout


def synthetic_config(text_dim: int, unet: dict = SD15_UNET, width: int = 768, layers: int = 1,
                     num_latents: int = 4, heads: int = 8, object_dim: int = 64, fuser_heads: int = 8,
                     time_dim: int = 64) -> DEIGConfig:
    fusers = tuple(FuserSpec(block, index, ch) for block, index, ch in unet_layout(unet).blocks)
    ide = IDEConfig(time_channel=32, time_embed_dim=time_dim, width=width, layers=layers, heads=heads,
                    num_latents=num_latents, input_dim=text_dim)
    return DEIGConfig(ide=ide, position_net=PositionNetConfig(in_dim=width, out_dim=object_dim, hidden=64),
                      fusers=fusers, fuser_heads=fuser_heads)


def synthetic_state_dict(cfg: DEIGConfig) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        shapes = {k: list(v.shape) for k, v in DEIGModel(cfg).official_state_dict().items()}
    return recipe_state_dict(shapes)
