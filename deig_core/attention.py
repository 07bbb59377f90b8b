"""Exact instance-masked attention for the DFM fuser, without a dense (L x L) mask.

The fuser attends over [visual; object] tokens, and only the visual rows are used. A visual token
sees every visual token plus the object tokens of the instances whose region covers it. Softmax over
that union equals a merge of two softmaxes by their log-sum-exp:

    out = out_vis + sigmoid(lse_obj - lse_vis) * (out_obj - out_vis)

``out_vis``/``lse_vis`` come from PyTorch's fused scaled-dot-product kernels in the form that returns
the log-sum-exp (the flash kernel on CPU, the flash or memory-efficient kernel on CUDA), so the big
visual part costs what a plain self-attention costs. The object part is small (K = instances x 16
keys) and is computed explicitly in row chunks, masked per instance. A token covered by no instance
gets ``lse_obj = -inf``, hence exactly ``out_vis``; empty slots are never computed at all.
"""
from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)

OBJECT_CHUNK_ELEMENTS = 1 << 23  # object-score elements per chunk (32 MiB in float32)


def _reference_attention_with_lse(q, k, v, chunk_rows: int = 1024):
    scale = q.shape[-1] ** -0.5
    outs, lses = [], []
    for start in range(0, q.shape[-2], chunk_rows):
        s = (q[..., start:start + chunk_rows, :].float() @ k.float().transpose(-1, -2)) * scale
        lse = torch.logsumexp(s, dim=-1)
        outs.append((torch.exp(s - lse[..., None]) @ v.float()).to(q.dtype))
        lses.append(lse)
    return torch.cat(outs, dim=-2), torch.cat(lses, dim=-1)


def attention_with_lse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
    """Softmax attention (B, H, L, d) that also returns the row log-sum-exp (B, H, L) in float32."""
    try:
        if q.device.type == "cpu":
            out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v, 0.0, False)[:2]
            return out, lse.float()
        if q.device.type == "cuda":
            if q.dtype in (torch.float16, torch.bfloat16) and q.shape[-1] % 8 == 0 and q.shape[-1] <= 256:
                out, lse = torch.ops.aten._scaled_dot_product_flash_attention(q, k, v)[:2]
            else:
                out, lse = torch.ops.aten._scaled_dot_product_efficient_attention(q, k, v, None, True)[:2]
            return out, lse[..., :q.shape[-2]].float()
    except (RuntimeError, NotImplementedError, AttributeError) as e:  # kernel unavailable for these shapes
        log.debug("fused attention with log-sum-exp unavailable (%s); using the reference path", e)
    return _reference_attention_with_lse(q, k, v)


def grounded_attention(q, k_vis, v_vis, k_obj=None, v_obj=None, allowed=None):
    """Visual rows of the instance-masked attention over [visual; object] tokens.

    q, k_vis, v_vis: (B, H, HW, d). k_obj, v_obj: (B, H, N*S, d) for N instances of S tokens each.
    allowed: (B, HW, N) bool, True where instance n's region covers visual token i.
    """
    out_vis, lse_vis = attention_with_lse(q, k_vis, v_vis)
    if k_obj is None or allowed is None or k_obj.shape[-2] == 0:
        return out_vis
    b, h, hw, d = q.shape
    n = allowed.shape[-1]
    s_tok = k_obj.shape[-2] // n
    scale = d ** -0.5
    kt, vo = k_obj.float().transpose(-1, -2), v_obj.float()
    rows = max(1, OBJECT_CHUNK_ELEMENTS // max(1, b * h * k_obj.shape[-2]))
    out = torch.empty_like(out_vis)
    for start in range(0, hw, rows):
        sl = slice(start, start + rows)
        scores = (q[:, :, sl].float() @ kt) * scale  # (B, H, r, N*S)
        block = ~allowed[:, None, sl, :, None].expand(-1, -1, -1, -1, s_tok).reshape(b, 1, -1, n * s_tok)
        scores = scores.masked_fill(block, float("-inf"))
        lse_obj = torch.logsumexp(scores, dim=-1)
        safe = torch.where(torch.isfinite(lse_obj), lse_obj, torch.zeros_like(lse_obj))
        out_obj = torch.exp(scores - safe[..., None]) @ vo
        w = torch.sigmoid(lse_obj - lse_vis[:, :, sl])[..., None]
        ov = out_vis[:, :, sl].float()
        out[:, :, sl] = (ov + w * (out_obj - ov)).to(out.dtype)
    return out
