"""Grounding inputs and the per-call state shared by all fusers of one UNet forward.

``Grounding`` is what an encode node produces for one conditioning (batch 1, or any batch): the
prompt's text features, the instances' text features, boxes, and optional region masks. The negative
branch carries the null grounding: no instances at all (the official null input has all boxes,
presence and features zero, whose regions are empty, so visual tokens never see an object token).

``StepState`` is built once per UNet call from the batched groundings: it runs the IDE on the prompt
(the cross-attention context), the IDE and position net on the present instances only, and
rasterises the instance regions once per token grid. The 16 fusers then only look it up.

Follows the official ``ldm/modules/core/deig_text_grounding_tokenizer_input.py`` (the null input).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .attention import ObjectMask, object_mask
from .masks import region_masks
from .model import DEIGModel


@dataclass
class Grounding:
    context_t5: torch.Tensor            # (B, L, D) prompt features
    instance_t5: torch.Tensor           # (B, N, L, D) instance features (N may be 0)
    boxes: torch.Tensor                 # (B, N, 4) normalised x1, y1, x2, y2
    presence: torch.Tensor              # (B, N) bool
    masks: tuple = ()                # per sample: (N, Hc, Wc) region masks or None (boxes)
    ide_context: torch.Tensor | None = None  # (B, S, W) IDE output of the prompt for the current step, once known

    def __post_init__(self):
        if not self.masks:
            self.masks = (None,) * self.batch

    @property
    def batch(self) -> int:
        return self.context_t5.shape[0]

    @property
    def slots(self) -> int:
        return self.instance_t5.shape[1]

    @classmethod
    def null(cls, context_t5: torch.Tensor) -> "Grounding":
        b, l, d = context_t5.shape
        return cls(context_t5, context_t5.new_zeros(b, 0, l, d), context_t5.new_zeros(b, 0, 4),
                   torch.zeros(b, 0, dtype=torch.bool))

    def padded(self, slots: int) -> "Grounding":
        extra = slots - self.slots
        if extra <= 0:
            return self
        b, _, l, d = self.instance_t5.shape
        canv = tuple(None if c is None else torch.cat([c, c.new_zeros(extra, *c.shape[1:])]) for c in self.masks)
        return Grounding(self.context_t5, torch.cat([self.instance_t5, self.instance_t5.new_zeros(b, extra, l, d)], 1),
                         torch.cat([self.boxes, self.boxes.new_zeros(b, extra, 4)], 1),
                         torch.cat([self.presence, torch.zeros(b, extra, dtype=torch.bool)], 1), canv, self.ide_context)

    def with_context(self, ide_context: torch.Tensor) -> "Grounding":
        """The same grounding with the prompt's IDE output of this step already computed."""
        return Grounding(self.context_t5, self.instance_t5, self.boxes, self.presence, self.masks, ide_context)

    def repeated(self, batch: int) -> "Grounding":
        if batch == self.batch:
            return self
        if batch % self.batch:
            raise ValueError(f"cannot repeat a grounding of batch {self.batch} to batch {batch}")
        r = batch // self.batch
        return Grounding(self.context_t5.repeat_interleave(r, 0), self.instance_t5.repeat_interleave(r, 0),
                         self.boxes.repeat_interleave(r, 0), self.presence.repeat_interleave(r, 0),
                         tuple(c for c in self.masks for _ in range(r)),
                         None if self.ide_context is None else self.ide_context.repeat_interleave(r, 0))

    @classmethod
    def concat(cls, parts: list["Grounding"]) -> "Grounding":
        """Stack along the batch; the prompt lengths must agree, instance slots are padded."""
        slots = max(p.slots for p in parts)
        parts = [p.padded(slots) for p in parts]
        return cls(torch.cat([p.context_t5 for p in parts]), torch.cat([p.instance_t5 for p in parts]),
                   torch.cat([p.boxes for p in parts]), torch.cat([p.presence for p in parts]),
                   tuple(c for p in parts for c in p.masks),
                   torch.cat([p.ide_context for p in parts]) if all(p.ide_context is not None for p in parts) else None)


class StepState:
    """IDE context, object tokens and instance regions for one UNet call (shared by every fuser)."""

    def __init__(self, model: DEIGModel, grounding: Grounding, timesteps: torch.Tensor,
                 latent_hw: tuple[int, int], strength: torch.Tensor, device, dtype):
        g = grounding
        t = timesteps.reshape(-1).to(device)
        self.latent_hw = tuple(latent_hw)
        self.strength = strength.to(device)
        self.context = (g.ide_context.to(device, dtype) if g.ide_context is not None
                        else model.IDE(g.context_t5.to(device, dtype), t))
        self.boxes, self.presence, self.masks = g.boxes, g.presence.bool(), g.masks
        self.objs = None
        self._regions: dict[tuple, ObjectMask | None] = {}
        idx = torch.nonzero(self.presence)  # (P, 2): sample, slot
        if len(idx) and bool((self.strength != 0).any()):
            b, n = g.presence.shape
            s = model.num_latents
            feats = g.instance_t5[idx[:, 0], idx[:, 1]].to(device, dtype)
            inst = model.IDE(feats, t[idx[:, 0].to(device)].reshape(-1)) if len(idx) else None
            tokens = model.position_net(g.boxes[idx[:, 0], idx[:, 1]].to(device)[:, None],
                                        torch.ones(len(idx), 1, device=device), inst[:, None])
            objs = tokens.new_zeros(b, n, s, tokens.shape[-1])
            objs[idx[:, 0].to(device), idx[:, 1].to(device)] = tokens
            self.objs = objs.reshape(b, n * s, -1)

    def allowed(self, grid_hw: tuple[int, int]) -> torch.Tensor:
        """(B, h*w, N) bool: which instances cover each visual token at this grid."""
        per_sample = []
        for i in range(self.presence.shape[0]):
            m = region_masks(self.boxes[i], tuple(grid_hw), self.latent_hw, self.masks[i])
            m = m & self.presence[i].cpu()[:, None, None]
            per_sample.append(m.flatten(1).transpose(0, 1))
        return torch.stack(per_sample)

    def regions(self, grid_hw: tuple[int, int], device, dtype) -> ObjectMask | None:
        """The object-attention mask at this grid, built once per call and shared by its fusers."""
        key = (tuple(grid_hw), device, dtype)
        if key not in self._regions:
            allowed = self.allowed(grid_hw).to(device)
            s = self.objs.shape[1] // allowed.shape[-1]
            self._regions[key] = object_mask(allowed, s, dtype) if bool(allowed.any()) else None
        return self._regions[key]

    def fuse(self, model: DEIGModel, block, index: int, x: torch.Tensor, grid_hw: tuple[int, int]) -> torch.Tensor:
        fuser = model.fuser_for(block, index)
        if fuser is None:
            return x
        regions = self.regions(grid_hw, x.device, x.dtype) if self.objs is not None else None
        return fuser(x, self.objs if regions is not None else None, regions, self.strength)
