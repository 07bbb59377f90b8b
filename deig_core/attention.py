"""Exact instance-masked attention for the DFM fuser, without a dense (L x L) mask.

The fuser attends over [visual; object] tokens, and only the visual rows are used. A visual token
sees every visual token plus the object tokens of the instances whose region covers it. Softmax over
that union equals a merge of two softmaxes by their log-sum-exp:

    out = out_vis + sigmoid(lse_obj - lse_vis) * (out_obj - out_vis)

Both parts come from PyTorch's fused scaled-dot-product kernels in the form that returns the
log-sum-exp (the flash kernel on CPU, the flash or memory-efficient kernel on CUDA): the visual part
costs what a plain self-attention costs, the object part is an attention over the N x 16 object
tokens with an additive (B, 1, HW, N*16) region bias (never an L x L mask). A token covered by no
instance keeps exactly ``out_vis``; empty slots are never computed at all.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectMask:
    """Instance regions at one token grid, in the form the object attention takes."""
    bias: torch.Tensor     # (B, 1, HW, N*S): 0 where the instance covers the token, -inf elsewhere
    covered: torch.Tensor  # (B, 1, HW) bool: the token is covered by at least one instance


def object_mask(allowed: torch.Tensor, tokens_per_instance: int, dtype) -> ObjectMask:
    """allowed (B, HW, N) bool -> ObjectMask for N instances of ``tokens_per_instance`` tokens."""
    bias = torch.zeros(allowed.shape[0], 1, allowed.shape[1], allowed.shape[2] * tokens_per_instance,
                       dtype=dtype, device=allowed.device)
    bias.masked_fill_(~allowed.repeat_interleave(tokens_per_instance, dim=2)[:, None], float("-inf"))
    return ObjectMask(bias, allowed.any(dim=2)[:, None])


def _reference_attention_with_lse(q, k, v, bias=None, chunk_rows: int = 1024):
    scale = q.shape[-1] ** -0.5
    outs, lses = [], []
    for start in range(0, q.shape[-2], chunk_rows):
        s = (q[..., start:start + chunk_rows, :].float() @ k.float().transpose(-1, -2)) * scale
        if bias is not None:
            s = s + bias[..., start:start + chunk_rows, :].float()
        lse = torch.logsumexp(s, dim=-1)
        safe = torch.where(torch.isfinite(lse), lse, torch.zeros_like(lse))
        outs.append((torch.exp(s - safe[..., None]) @ v.float()).to(q.dtype))
        lses.append(lse)
    return torch.cat(outs, dim=-2), torch.cat(lses, dim=-1)


def attention_with_lse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None = None):
    """Softmax attention (B, H, L, d), optionally with an additive bias broadcastable to (B, H, L, K),
    that also returns the row log-sum-exp (B, H, L) in float32. Rows whose keys are all masked have
    an undefined log-sum-exp, and an output of 0 on the CPU (undefined on other devices): callers
    mask them."""
    try:
        if q.device.type == "cpu":
            out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v, 0.0, False,
                                                                                  attn_mask=bias)[:2]
            return out, lse.float()
        if q.device.type == "cuda":
            if bias is None and q.dtype in (torch.float16, torch.bfloat16) and q.shape[-1] % 8 == 0 \
                    and q.shape[-1] <= 256:
                out, lse = torch.ops.aten._scaled_dot_product_flash_attention(q, k, v)[:2]
            else:
                b = None if bias is None else bias.expand(q.shape[0], q.shape[1], -1, -1)
                out, lse = torch.ops.aten._scaled_dot_product_efficient_attention(q, k, v, b, True)[:2]
            return out, lse[..., :q.shape[-2]].float()
    except (RuntimeError, NotImplementedError, AttributeError, TypeError) as e:  # kernel unavailable here
        log.debug("fused attention with log-sum-exp unavailable (%s); using the reference path", e)
    return _reference_attention_with_lse(q, k, v, bias)


def grounded_attention(q, k_vis, v_vis, k_obj=None, v_obj=None, mask: ObjectMask | None = None):
    """Visual rows of the instance-masked attention over [visual; object] tokens.

    q, k_vis, v_vis: (B, H, HW, d). k_obj, v_obj: (B, H, N*S, d) for N instances of S tokens each.
    mask: the instance regions (``object_mask``).
    """
    out_vis, lse_vis = attention_with_lse(q, k_vis, v_vis)
    if k_obj is None or mask is None or k_obj.shape[-2] == 0:
        return out_vis
    out_obj, lse_obj = attention_with_lse(q, k_obj, v_obj, mask.bias.to(q.dtype))
    if out_obj.device.type != "cpu":  # CPU kernels give 0 on rows with no key; others may give NaN
        out_obj = torch.where(mask.covered[..., None], out_obj, out_vis)
    w = torch.where(mask.covered, torch.sigmoid(lse_obj - lse_vis), torch.zeros_like(lse_vis))
    return torch.lerp(out_vis, out_obj, w[..., None].to(out_vis.dtype))
