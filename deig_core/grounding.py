"""Grounding inputs, the instance regions of one sampling, and the per-call state shared by all fusers.

``Grounding`` is what an encode node produces for one conditioning (batch 1, or any batch): the
prompt's text features, the instances' text features, boxes, and optional region masks. The negative
branch carries the null grounding: no instances at all (the official null input has all boxes,
presence and features zero, whose regions are empty, so visual tokens never see an object token).

``Regions`` is where the instances of one batched grounding are, for one latent size: which (sample,
slot) pairs are present and the instance regions at each token grid, on the device. It depends only
on the layouts and the latent size, so a sampling builds it once and every later UNet call (each step,
the extra passes of PAG/SAG) looks it up; ``Grounding.layout_keys`` says which layouts a batch holds.

``StepState`` is built once per UNet call: it runs the IDE on the prompt (the cross-attention
context) and the IDE and position net on the present instances only. The 16 fusers then only look it
up. Neither reads a tensor value back to the host.

Follows the official ``ldm/modules/core/deig_text_grounding_tokenizer_input.py`` (the null input).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from .attention import ObjectMask, object_mask
from .masks import canvas_size, paint_boxes, region_masks
from .model import DEIGModel


@dataclass
class Grounding:
    context_t5: torch.Tensor            # (B, L, D) prompt features
    instance_t5: torch.Tensor           # (B, N, L, D) instance features (N may be 0)
    boxes: torch.Tensor                 # (B, N, 4) normalised x1, y1, x2, y2
    presence: torch.Tensor              # (B, N) bool
    masks: tuple = ()                # per sample: (N, Hc, Wc) region masks or None (boxes)
    ide_context: torch.Tensor | None = None  # (B, S, W) IDE output of the prompt for the current step, once known
    layout_keys: tuple = ()          # per sample: what identifies its layout within one sampling, or None

    def __post_init__(self):
        if not self.masks:
            self.masks = (None,) * self.batch
        if not self.layout_keys:
            self.layout_keys = (None,) * self.batch

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
        masks = tuple(None if m is None else torch.cat([m, m.new_zeros(extra, *m.shape[1:])]) for m in self.masks)
        return replace(self, instance_t5=torch.cat([self.instance_t5, self.instance_t5.new_zeros(b, extra, l, d)], 1),
                       boxes=torch.cat([self.boxes, self.boxes.new_zeros(b, extra, 4)], 1),
                       presence=torch.cat([self.presence, torch.zeros(b, extra, dtype=torch.bool)], 1), masks=masks)

    def with_context(self, ide_context: torch.Tensor, layout_keys: tuple) -> "Grounding":
        """The same grounding with the prompt's IDE output of this step already computed, and the
        keys that name its layouts for the rest of the sampling."""
        return replace(self, ide_context=ide_context, layout_keys=tuple(layout_keys))

    def repeated(self, batch: int) -> "Grounding":
        if batch == self.batch:
            return self
        if batch % self.batch:
            raise ValueError(f"cannot repeat a grounding of batch {self.batch} to batch {batch}")
        r = batch // self.batch
        return Grounding(self.context_t5.repeat_interleave(r, 0), self.instance_t5.repeat_interleave(r, 0),
                         self.boxes.repeat_interleave(r, 0), self.presence.repeat_interleave(r, 0),
                         tuple(m for m in self.masks for _ in range(r)),
                         None if self.ide_context is None else self.ide_context.repeat_interleave(r, 0),
                         tuple(k for k in self.layout_keys for _ in range(r)))

    @classmethod
    def concat(cls, parts: list["Grounding"]) -> "Grounding":
        """Stack along the batch; the prompt lengths must agree, instance slots are padded."""
        slots = max(p.slots for p in parts)
        parts = [p.padded(slots) for p in parts]
        return cls(torch.cat([p.context_t5 for p in parts]), torch.cat([p.instance_t5 for p in parts]),
                   torch.cat([p.boxes for p in parts]), torch.cat([p.presence for p in parts]),
                   tuple(m for p in parts for m in p.masks),
                   torch.cat([p.ide_context for p in parts]) if all(p.ide_context is not None for p in parts) else None,
                   tuple(k for p in parts for k in p.layout_keys))


class Regions:
    """The instances of one batched grounding at one latent size, on ``device``: the present (sample,
    slot) pairs and, per token grid, the object-attention mask. Reading the presence happens here,
    once; each grid's mask is built on the device the first time a fuser asks for it."""

    def __init__(self, grounding: Grounding, latent_hw: tuple[int, int], device):
        g = grounding
        self.latent_hw, self.device = tuple(latent_hw), device
        self.boxes, self.masks = g.boxes, g.masks
        self.presence = g.presence.bool().to(device)
        self.present_host = torch.nonzero(g.presence.bool())  # (P, 2): sample, slot; indexes the host tensors
        self.present = self.present_host.to(device)            # the same, indexes the device tensors
        self.count = len(self.present_host)
        self._with_instances = set(self.present_host[:, 0].tolist())
        self._canvases: dict[int, torch.Tensor] = {}
        self._at: dict[tuple, ObjectMask] = {}

    def _canvas(self, sample: int) -> torch.Tensor:
        """The sample's instances painted once (or its region masks), shared by every grid."""
        if sample not in self._canvases:
            given = self.masks[sample]
            self._canvases[sample] = (paint_boxes(self.boxes[sample], canvas_size(self.latent_hw), self.device)
                                      if given is None else given.to(self.device))
        return self._canvases[sample]

    def _allowed(self, sample: int, grid_hw: tuple[int, int]) -> torch.Tensor:
        """(h*w, N) bool: which present instances of this sample cover each token of the grid."""
        n = self.presence.shape[1]
        if sample not in self._with_instances:
            return torch.zeros(grid_hw[0] * grid_hw[1], n, dtype=torch.bool, device=self.device)
        m = region_masks(self.boxes[sample], grid_hw, self.latent_hw, self._canvas(sample), self.device)
        return (m & self.presence[sample][:, None, None]).flatten(1).transpose(0, 1)

    def at(self, grid_hw: tuple[int, int], tokens_per_instance: int, dtype) -> ObjectMask | None:
        """The object-attention mask at this token grid (None when the batch has no instance)."""
        if not self.count:
            return None
        key = (tuple(grid_hw), tokens_per_instance, dtype)
        if key not in self._at:
            allowed = torch.stack([self._allowed(i, tuple(grid_hw)) for i in range(self.presence.shape[0])])
            self._at[key] = object_mask(allowed, tokens_per_instance, dtype)
        return self._at[key]


class StepState:
    """IDE context and object tokens for one UNet call, with the sampling's ``Regions`` (shared by
    every fuser). ``strength`` is this call's gate scale, a Python float."""

    def __init__(self, model: DEIGModel, grounding: Grounding, timesteps: torch.Tensor, regions: Regions,
                 strength: float, device, dtype):
        g = grounding
        t = timesteps.reshape(-1).to(device)
        self.strength = float(strength)
        self.regions = regions
        self.context = (g.ide_context.to(device, dtype) if g.ide_context is not None
                        else model.IDE(g.context_t5.to(device, dtype), t))
        self.objs = None
        if regions.count and self.strength != 0:
            b, n = g.presence.shape
            s = model.num_latents
            sample, slot = regions.present[:, 0], regions.present[:, 1]
            host_sample, host_slot = regions.present_host[:, 0], regions.present_host[:, 1]
            feats = g.instance_t5[host_sample, host_slot].to(device, dtype)
            inst = model.IDE(feats, t[sample])
            tokens = model.position_net(g.boxes[host_sample, host_slot].to(device)[:, None],
                                        torch.ones(regions.count, 1, device=device), inst[:, None])
            objs = tokens.new_zeros(b, n, s, tokens.shape[-1])
            objs[sample, slot] = tokens
            self.objs = objs.reshape(b, n * s, -1)

    def fuse(self, model: DEIGModel, block, index: int, x: torch.Tensor, grid_hw: tuple[int, int]) -> torch.Tensor:
        fuser = model.fuser_for(block, index)
        if fuser is None or self.strength == 0:
            return x
        regions = None
        if self.objs is not None:
            regions = self.regions.at(grid_hw, self.objs.shape[1] // self.regions.presence.shape[1], x.dtype)
        return fuser(x, self.objs if regions is not None else None, regions, self.strength)
