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

Which kernel runs is decided once per (device type, dtype, bias or not): each fused kernel of that
form is probed once on a tiny input; one that is missing there is skipped with one WARNING naming
why, and where none runs (MPS, XPU) a float32 reference takes over, said in that WARNING. The
chosen kernel's own errors (out-of-memory included) propagate: nothing is retried on another path.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

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


_Run = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, Optional[torch.Tensor]], Tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Kernel:
    """One way to compute (out, float32 row log-sum-exp); ``fits`` says whether it takes a head size."""
    name: str
    run: _Run
    fits: Callable[[int], bool] = lambda head_dim: True


def _flash_cpu(q, k, v, bias):
    out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v, 0.0, False, attn_mask=bias)[:2]
    return out, lse.float()


def _flash_cuda(q, k, v, bias):
    out, lse = torch.ops.aten._scaled_dot_product_flash_attention(q, k, v)[:2]
    return out, lse.float()


def _efficient_cuda(q, k, v, bias):
    b = None if bias is None else bias.expand(q.shape[0], q.shape[1], -1, -1)
    out, lse = torch.ops.aten._scaled_dot_product_efficient_attention(q, k, v, b, True)[:2]
    return out, lse[..., :q.shape[-2]].float()


REFERENCE = Kernel("reference", lambda q, k, v, bias: _reference_attention_with_lse(q, k, v, bias))
FLASH_CPU = Kernel("flash_cpu", _flash_cpu)
FLASH_CUDA = Kernel("flash_cuda", _flash_cuda, lambda head_dim: head_dim % 8 == 0 and head_dim <= 256)
EFFICIENT_CUDA = Kernel("efficient_cuda", _efficient_cuda)


def fused_kernels(device_type: str, dtype: torch.dtype, with_bias: bool) -> list[Kernel]:
    """The fused kernels that return the log-sum-exp for this form, fastest first (none on MPS/XPU:
    PyTorch exposes no such kernel there)."""
    if device_type == "cpu":
        return [FLASH_CPU]
    if device_type == "cuda":
        flash = [FLASH_CUDA] if not with_bias and dtype in (torch.float16, torch.bfloat16) else []
        return flash + [EFFICIENT_CUDA]
    return []


_OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)  # torch.OutOfMemoryError: 2.5+


def probe(kernel: Kernel, device: torch.device, dtype: torch.dtype, with_bias: bool) -> str | None:
    """Run ``kernel`` once on a tiny valid input of this form: None if it ran, else why it cannot run here.

    Only "this kernel is missing, or does not take this device, dtype or call" (an older PyTorch's
    signature) is a reason; out-of-memory propagates (it says nothing about the kernel), and so does
    any other exception."""
    q = torch.zeros(1, 2, 16, 64, device=device, dtype=dtype)
    bias = torch.zeros(1, 1, 16, 16, device=device, dtype=dtype) if with_bias else None
    try:
        kernel.run(q, q, q, bias)
    except _OUT_OF_MEMORY:
        raise
    except (RuntimeError, NotImplementedError, AttributeError, TypeError) as e:
        first_line = (str(e).splitlines() or [""])[0]
        return f"{type(e).__name__}: {first_line[:160]}"
    return None


@dataclass(frozen=True)
class KernelChoice:
    """The kernels that run for one (device type, dtype, bias or not), in order of preference; the
    reference is last."""
    kernels: tuple[Kernel, ...]

    def for_head_dim(self, head_dim: int) -> Kernel:
        return next(k for k in self.kernels if k.fits(head_dim))


def choose_kernels(device: torch.device, dtype: torch.dtype, with_bias: bool,
                   candidates: list[Kernel] | None = None) -> KernelChoice:
    """Probe the fused kernels of this form once each; log one WARNING if any preferred one cannot run."""
    candidates = fused_kernels(device.type, dtype, with_bias) if candidates is None else candidates
    usable, reasons = [], []
    for kernel in candidates:
        reason = probe(kernel, device, dtype, with_bias)
        if reason is None:
            usable.append(kernel)
        else:
            reasons.append(f"{kernel.name} unavailable ({reason})")
    form = f"{device.type} {str(dtype).removeprefix('torch.')} {'with' if with_bias else 'without'} bias"
    if not candidates:
        reasons.append(f"PyTorch has no fused attention kernel returning the log-sum-exp on {device.type}")
    if reasons:
        falls_to = (f"using {usable[0].name}" if usable else
                    "using the float32 reference (slower, more memory: full score matrices in chunks)")
        log.warning("DEIG fuser attention on %s: %s; %s", form, "; ".join(reasons), falls_to)
    return KernelChoice(tuple(usable) + (REFERENCE,))


_choices: dict[tuple[str, torch.dtype, bool], KernelChoice] = {}


def kernel_choice(device: torch.device, dtype: torch.dtype, with_bias: bool) -> KernelChoice:
    """The kernels for this (device type, dtype, bias or not), decided on first use and kept."""
    key = (device.type, dtype, with_bias)
    choice = _choices.get(key)
    if choice is None:
        choice = _choices[key] = choose_kernels(device, dtype, with_bias)
    return choice


def attention_with_lse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None = None):
    """Softmax attention (B, H, L, d), optionally with an additive bias broadcastable to (B, H, L, K),
    that also returns the row log-sum-exp (B, H, L) in float32. Rows whose keys are all masked have
    an undefined log-sum-exp, and an output of 0 on the CPU (undefined on other devices): callers
    mask them. The kernel is decided once per (device type, dtype, bias or not) by ``kernel_choice``;
    errors of the chosen kernel propagate."""
    kernel = kernel_choice(q.device, q.dtype, bias is not None).for_head_dim(q.shape[-1])
    return kernel.run(q, k, v, bias)


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
