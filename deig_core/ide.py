"""Instance Detail Extractor (IDE): a timestep-conditioned Perceiver resampler.

It compresses a padded text-encoder sequence (B, L, D) into ``num_latents`` tokens of ``width``
(B, S, width). The global prompt's IDE output replaces CLIP as the UNet's cross-attention context;
each instance phrase's output feeds the position net. Parameter names follow the official
checkpoint (``IDE.time_embedding.*``, ``IDE.connector.*``) so weights load 1:1.

Follows the official ``ldm/modules/core/ide.py`` (``InstanceDetailExtractor``, ``PerceiverResampler``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class IDEConfig:
    time_channel: int = 320
    time_embed_dim: int = 768
    width: int = 768
    layers: int = 6
    heads: int = 8
    num_latents: int = 16
    input_dim: int = 2048


def sinusoidal_features(timesteps: torch.Tensor, channels: int, max_period: float = 10000.0) -> torch.Tensor:
    """Cosine-then-sine timestep features (B,) -> (B, channels), computed in float32."""
    half = channels // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / half)
    args = timesteps.reshape(-1, 1).float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if channels % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class TimeEmbedding(nn.Module):
    def __init__(self, in_channels: int, dim: int, ops=nn):
        super().__init__()
        self.linear_1 = ops.Linear(in_channels, dim)
        self.linear_2 = ops.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class AdaLayerNorm(nn.Module):
    """LayerNorm without affine whose shift and scale come from the time embedding."""

    def __init__(self, dim: int, time_dim: int, ops=nn):
        super().__init__()
        self.linear = ops.Linear(time_dim, 2 * dim)

    def forward(self, x, t_emb):
        shift, scale = self.linear(F.silu(t_emb)).reshape(x.shape[0], 1, -1).chunk(2, dim=-1)
        return F.layer_norm(x, x.shape[-1:], eps=1e-6) * (1 + scale) + shift


class PackedAttention(nn.Module):
    """Multi-head attention with a packed q/k/v input projection (``in_proj_weight``/``in_proj_bias``)."""

    def __init__(self, dim: int, heads: int, ops=nn):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * dim))
        self.out_proj = ops.Linear(dim, dim)

    def forward(self, q_in, kv_in):
        w = self.in_proj_weight.to(q_in)
        b = self.in_proj_bias.to(q_in)
        wq, wk, wv = w.chunk(3)
        bq, bk, bv = b.chunk(3)
        q, k, v = F.linear(q_in, wq, bq), F.linear(kv_in, wk, bk), F.linear(kv_in, wv, bv)
        q, k, v = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out_proj(out.transpose(1, 2).flatten(2))


class SquaredReLUMLP(nn.Module):
    def __init__(self, dim: int, ops=nn):
        super().__init__()
        self.c_fc = ops.Linear(dim, 4 * dim)
        self.c_proj = ops.Linear(4 * dim, dim)

    def forward(self, x):
        return self.c_proj(torch.relu(self.c_fc(x)).square())


class PerceiverBlock(nn.Module):
    def __init__(self, dim: int, heads: int, time_dim: int, ops=nn):
        super().__init__()
        self.attn = PackedAttention(dim, heads, ops)
        self.cross_attn = PackedAttention(dim, heads, ops)
        self.mlp = SquaredReLUMLP(dim, ops)
        self.ln_0 = AdaLayerNorm(dim, time_dim, ops)
        self.ln_1 = AdaLayerNorm(dim, time_dim, ops)
        self.ln_2 = AdaLayerNorm(dim, time_dim, ops)
        self.ln_ff = AdaLayerNorm(dim, time_dim, ops)

    def forward(self, x, latents, t_emb):
        n = self.ln_0(latents, t_emb)
        latents = latents + self.attn(n, n)
        n = self.ln_1(latents, t_emb)
        latents = latents + self.cross_attn(n, torch.cat([n, self.ln_2(x, t_emb)], dim=1))
        return latents + self.mlp(self.ln_ff(latents, t_emb))


class PerceiverResampler(nn.Module):
    def __init__(self, cfg: IDEConfig, ops=nn):
        super().__init__()
        self.latents = nn.Parameter(torch.empty(cfg.num_latents, cfg.width))
        self.time_aware_linear = ops.Linear(cfg.time_embed_dim, cfg.width)
        self.proj_in = ops.Linear(cfg.input_dim, cfg.width)
        self.perceiver_blocks = nn.ModuleList(
            PerceiverBlock(cfg.width, cfg.heads, cfg.time_embed_dim, ops) for _ in range(cfg.layers))

    def forward(self, x, t_emb):
        latents = self.latents.to(x)[None] + self.time_aware_linear(F.silu(t_emb))
        x = self.proj_in(x)
        for block in self.perceiver_blocks:
            latents = block(x, latents, t_emb)
        return latents


class InstanceDetailExtractor(nn.Module):
    def __init__(self, cfg: IDEConfig = IDEConfig(), ops=nn):
        super().__init__()
        self.cfg = cfg
        self.time_embedding = TimeEmbedding(cfg.time_channel, cfg.time_embed_dim, ops)
        self.connector = PerceiverResampler(cfg, ops)

    def forward(self, text_features: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """text_features (B*K, L, D) with timesteps (B,): the K sequences of sample b share its timestep."""
        per_sample = text_features.shape[0] // timesteps.numel()
        t = sinusoidal_features(timesteps, self.cfg.time_channel).to(text_features)
        t = t.repeat_interleave(per_sample, dim=0)[:, None]
        t_emb = self.time_embedding(t)
        return self.connector(text_features, t_emb)
