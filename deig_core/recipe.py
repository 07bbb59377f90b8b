"""Deterministic weights from key names (the recipe of the reference test vectors).

For each key: a float64 normal draw seeded by crc32(key); gates (``alpha_attn``/``alpha_dense``)
0.3 + 0.2 r; matrices and kernels r / sqrt(fan_in); other ``*weight`` 1 + 0.1 r; the rest 0.05 r;
cast to float32. Used by the parity tool, the tests and the synthetic demo models.
"""
from __future__ import annotations

import math
import zlib

import torch


def recipe_tensor(key: str, shape) -> torch.Tensor:
    shape = tuple(int(s) for s in shape)
    g = torch.Generator().manual_seed(zlib.crc32(key.encode()))
    r = torch.randn(shape, generator=g, dtype=torch.float64)
    if key.endswith(("alpha_attn", "alpha_dense")):
        r = 0.3 + 0.2 * r
    elif len(shape) >= 2:
        r = r / math.sqrt(math.prod(shape[1:]))
    elif key.endswith("weight"):
        r = 1 + 0.1 * r
    else:
        r = 0.05 * r
    return r.to(torch.float32)


def recipe_state_dict(shapes: dict[str, list]) -> dict[str, torch.Tensor]:
    return {k: recipe_tensor(k, s) for k, s in shapes.items()}
