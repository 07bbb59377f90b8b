"""Detail Fusion Module: the gated self-attention ("fuser") placed in each SD1.5 transformer block.

It runs between the block's self-attention and cross-attention:

    x = x + strength * tanh(alpha_attn)  * Attn(norm1([x; linear(objs)]))[visual rows]
    x = x + strength * tanh(alpha_dense) * FF(norm2(x))

with the instance mask of ``deig_core.attention``. Parameter names follow the official checkpoint.

Follows the official ``ldm/modules/attention.py`` (``GatedSelfAttentionDense`` in ``DFMSpatialTransformer``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .attention import ObjectMask, grounded_attention, object_mask


class GEGLUFeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4, ops=nn):
        super().__init__()
        proj = nn.Module()
        proj.proj = ops.Linear(dim, dim * mult * 2)
        self.net = nn.Sequential(proj, nn.Identity(), ops.Linear(dim * mult, dim))

    def forward(self, x):
        a, gate = self.net[0].proj(x).chunk(2, dim=-1)
        return self.net[2](a * F.gelu(gate))


class FuserAttention(nn.Module):
    def __init__(self, dim: int, heads: int, ops=nn):
        super().__init__()
        self.heads = heads
        self.to_q = ops.Linear(dim, dim, bias=False)
        self.to_k = ops.Linear(dim, dim, bias=False)
        self.to_v = ops.Linear(dim, dim, bias=False)
        self.to_out = nn.Sequential(ops.Linear(dim, dim))

    def split(self, t):
        return rearrange(t, "b n (heads d) -> b heads n d", heads=self.heads)

    def forward(self, x_normed, objs_normed=None, mask: ObjectMask | None = None):
        q, k, v = (self.split(f(x_normed)) for f in (self.to_q, self.to_k, self.to_v))
        ko = vo = None
        if objs_normed is not None:
            ko, vo = self.split(self.to_k(objs_normed)), self.split(self.to_v(objs_normed))
        out = grounded_attention(q, k, v, ko, vo, mask)
        return self.to_out(rearrange(out, "b heads n d -> b n (heads d)"))


class GatedSelfAttentionFuser(nn.Module):
    def __init__(self, query_dim: int, context_dim: int, heads: int, ops=nn):
        super().__init__()
        self.linear = ops.Linear(context_dim, query_dim)
        self.attn = FuserAttention(query_dim, heads, ops)
        self.ff = GEGLUFeedForward(query_dim, ops=ops)
        self.norm1 = ops.LayerNorm(query_dim)
        self.norm2 = ops.LayerNorm(query_dim)
        self.alpha_attn = nn.Parameter(torch.tensor(0.0))
        self.alpha_dense = nn.Parameter(torch.tensor(0.0))

    def forward(self, x: torch.Tensor, objs: torch.Tensor | None, regions, strength: float = 1.0):
        """x (B, HW, C) visual tokens; objs (B, N*S, context_dim) object tokens of N instances or None;
        regions: the instances' token regions at this grid, an ``ObjectMask`` (what the sampling path
        passes) or (B, HW, N) bool; strength: the gate scale, a Python float (0 returns x unchanged)."""
        if strength == 0:
            return x
        s = float(strength)
        if objs is not None and regions is not None and not isinstance(regions, ObjectMask):
            regions = object_mask(regions, objs.shape[1] // regions.shape[-1], x.dtype)
        objs_normed = None
        if objs is not None and regions is not None:
            objs_normed = self.norm1(self.linear(objs.to(x)))
        attn = self.attn(self.norm1(x), objs_normed, regions if objs_normed is not None else None)
        x = x + s * torch.tanh(self.alpha_attn.to(x)) * attn
        return x + s * torch.tanh(self.alpha_dense.to(x)) * self.ff(self.norm2(x))
