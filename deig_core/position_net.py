"""Position net: IDE instance tokens + Fourier-encoded boxes -> object tokens for the fusers.

Follows the official ``ldm/modules/core/text_grounding_net.py`` (``BroadcastPositionNet``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class PositionNetConfig:
    in_dim: int = 768
    out_dim: int = 768
    fourier_freqs: int = 8
    hidden: int = 512

    @property
    def position_dim(self) -> int:
        return self.fourier_freqs * 2 * 4  # sin and cos of x1, y1, x2, y2


def fourier_features(boxes: torch.Tensor, num_freqs: int, temperature: float = 100.0) -> torch.Tensor:
    """(..., 4) -> (..., num_freqs*8): [sin(f0 b), cos(f0 b), sin(f1 b), ...] with f_i = T^(i/num_freqs)."""
    freqs = temperature ** (torch.arange(num_freqs, device=boxes.device) / num_freqs)
    args = boxes.float()[..., None, :] * freqs[:, None]  # (..., F, 4)
    return torch.stack([torch.sin(args), torch.cos(args)], dim=-2).flatten(-3)


class PositionNet(nn.Module):
    def __init__(self, cfg: PositionNetConfig = PositionNetConfig(), ops=nn):
        super().__init__()
        self.cfg = cfg
        self.null_positive_feature = nn.Parameter(torch.zeros(cfg.in_dim))
        self.null_position_feature = nn.Parameter(torch.zeros(cfg.position_dim))
        self.linears = nn.Sequential(
            ops.Linear(cfg.in_dim + cfg.position_dim, cfg.hidden), nn.SiLU(),
            ops.Linear(cfg.hidden, cfg.hidden), nn.SiLU(),
            ops.Linear(cfg.hidden, cfg.out_dim))

    def forward(self, boxes: torch.Tensor, presence: torch.Tensor, instance_tokens: torch.Tensor) -> torch.Tensor:
        """boxes (B, N, 4), presence (B, N), instance_tokens (B, N, S, in_dim) -> (B, N*S, out_dim).

        Absent slots take the learnable null features (as the official position net does).
        """
        b, n, s, _ = instance_tokens.shape
        m = presence.to(instance_tokens)[..., None, None]
        pos = fourier_features(boxes, self.cfg.fourier_freqs).to(instance_tokens)[:, :, None].expand(-1, -1, s, -1)
        tokens = instance_tokens * m + (1 - m) * self.null_positive_feature.to(instance_tokens)
        pos = pos * m + (1 - m) * self.null_position_feature.to(instance_tokens)
        return self.linears(torch.cat([tokens, pos], dim=-1)).reshape(b, n * s, -1)
