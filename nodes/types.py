"""What travels between DEIG nodes: the custom socket types and the layout payload."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from comfy_api.latest import io

from ..deig_core.layout import Instance

LayoutSocket = io.Custom("DEIG_LAYOUT")         # carries a Layout
DEIGModelSocket = io.Custom("DEIG_MODEL")       # carries a ModelPatcher around a deig_core.model.DEIGModel
T5EncoderSocket = io.Custom("DEIG_T5")          # carries a nodes_loaders.EncoderPatcher


@dataclass(frozen=True)
class Layout:
    """The value of a DEIG_LAYOUT socket: instances (normalised boxes + descriptions) and optional region masks."""
    instances: tuple[Instance, ...]
    masks: torch.Tensor | None = None  # (N, H, W) in 0..1, one per instance, or None for box regions


@dataclass(frozen=True)
class LayoutBatch:
    """The value of a DEIG_LAYOUT socket for a batch (DEIG Layout Batch): layout i drives latent sample i."""
    layouts: tuple[Layout, ...]


def layouts_of(value) -> tuple[Layout, ...]:
    """The layouts a DEIG_LAYOUT value holds, in batch order (one for a plain layout)."""
    return value.layouts if isinstance(value, LayoutBatch) else (value,)
