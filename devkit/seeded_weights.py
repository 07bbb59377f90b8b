"""Deterministic weights from key names: the one recipe behind every random model of the tests and tools.

For each key a float64 normal draw seeded by crc32(key) (plus ``seed``); gates (``alpha_attn`` /
``alpha_dense``) 0.3 + 0.2 r; matrices and kernels r / sqrt(fan_in); other ``*weight`` 1 + 0.1 r; the
rest 0.05 r. With ``seed=0`` this is exactly how the reference test vectors in ``../shared/reference``
were made, so the parity tool and the reference-vector tests rebuild the official weights from it.
"""
from __future__ import annotations

import math
import zlib

import torch


def seeded_tensor(key: str, shape, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    shape = tuple(int(s) for s in shape)
    g = torch.Generator().manual_seed(zlib.crc32(key.encode()) + seed * 1_000_003)
    r = torch.randn(shape, generator=g, dtype=torch.float64)
    if key.endswith(("alpha_attn", "alpha_dense")):
        r = 0.3 + 0.2 * r
    elif len(shape) >= 2:
        r = r / math.sqrt(math.prod(shape[1:]))
    elif key.endswith("weight"):
        r = 1 + 0.1 * r
    else:
        r = 0.05 * r
    return r.to(dtype)


def seeded_state_dict(shapes: dict, seed: int = 0, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """``{key: tensor}`` for ``{key: shape}``, each from :func:`seeded_tensor`."""
    return {k: seeded_tensor(k, s, seed, dtype) for k, s in shapes.items()}


@torch.no_grad()
def seeded_fill_(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Overwrite every parameter and floating buffer of ``module`` in place from its key name."""
    for key, t in module.state_dict(keep_vars=True).items():
        if t.is_floating_point() and t.device.type != "meta":
            t.copy_(seeded_tensor(key, t.shape, seed, t.dtype))
    return module
