"""The fuser attention as the official code computes it: a dense (B*heads, L, L) boolean mask.

Kept only as the yardstick for tests and `make bench` (exactness and cost); sampling never uses it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from comfyui_deig.deig_core.fuser import GatedSelfAttentionFuser


def dense_mask(allowed: torch.Tensor, tokens_per_instance: int, heads: int) -> torch.Tensor:
    """allowed (B, HW, N) -> (B*heads, HW+N*S, HW+N*S) bool, official semantics."""
    b, hw, n = allowed.shape
    ns = n * tokens_per_instance
    vis_obj = allowed.repeat_interleave(tokens_per_instance, dim=2)  # (B, HW, N*S)
    mask = torch.ones(b, hw + ns, hw + ns, dtype=torch.bool, device=allowed.device)
    mask[:, :hw, hw:] = vis_obj
    mask[:, hw:, :hw] = vis_obj.transpose(1, 2)
    inst = torch.arange(ns, device=allowed.device) // tokens_per_instance
    mask[:, hw:, hw:] = inst[:, None] == inst[None, :]
    return mask.repeat_interleave(heads, dim=0)


def dense_fuser_forward(fuser: GatedSelfAttentionFuser, x, objs, allowed, strength: float = 1.0):
    """Official-semantics fuser forward over [visual; object] tokens with the dense mask."""
    b, hw, _ = x.shape
    n = allowed.shape[-1]
    objs = fuser.linear(objs)
    combined = fuser.norm1(torch.cat([x, objs], dim=1))
    a = fuser.attn
    q, k, v = (t.unflatten(-1, (a.heads, -1)).transpose(1, 2).flatten(0, 1)
               for t in (a.to_q(combined), a.to_k(combined), a.to_v(combined)))
    mask = dense_mask(allowed, objs.shape[1] // n, a.heads)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out = a.to_out(out.unflatten(0, (b, a.heads)).transpose(1, 2).flatten(2))
    x = x + strength * torch.tanh(fuser.alpha_attn) * out[:, :hw]
    return x + strength * torch.tanh(fuser.alpha_dense) * fuser.ff(fuser.norm2(x))
