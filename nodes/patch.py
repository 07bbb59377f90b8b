"""How DEIG is attached to a ComfyUI model: the one code path used by the nodes and by `make parity`.

* The grounding travels with each conditioning as ``model_conds["deig"]`` (``DEIGCond``), so the host
  batches cond and uncond chunks into one UNet call and hands the batched ``Grounding`` to the model.
* A DIFFUSION_MODEL wrapper (keyed ``"deig"``) runs once per UNet call: it builds the ``StepState``
  (IDE of the prompt replaces the CLIP context; object tokens; gate scale for this timestep) and puts
  it into this call's ``transformer_options``.
* A ``middle_patch`` runs in every transformer block between self- and cross-attention and applies
  the fuser chosen by ``extra_options["block"]`` and ``["block_index"]``.
* The DEIG weights live in their own ModelPatcher, registered as an additional model so ComfyUI's
  model management loads, offloads and partially loads them with the UNet.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

import comfy.conds
import comfy.patcher_extension

from ..deig_core.grounding import Grounding, StepState

log = logging.getLogger(__name__)

KEY = "deig"
STATE_KEY = "deig_state"


class DEIGCond(comfy.conds.CONDRegular):
    """A Grounding riding along a conditioning; batches with other DEIGConds of the same text length."""

    def process_cond(self, batch_size, **kwargs):
        return self._copy_with(self.cond.repeated(batch_size) if batch_size % self.cond.batch == 0 else self.cond)

    def can_concat(self, other):
        a, b = self.cond.context_t5, other.cond.context_t5
        return a.shape[1:] == b.shape[1:]

    def concat(self, others):
        return Grounding.concat([self.cond] + [o.cond for o in others])

    def size(self):
        return list(self.cond.context_t5.shape)


@dataclass(frozen=True)
class Schedule:
    """Fuser gate scale over the sampling: ``strength`` from ``start`` to ``end`` (fractions of the
    schedule), fading linearly to 0 over the last ``fade`` before ``end``. The official three-stage
    ``alpha_type=[a, b, c]`` is start=0, end=a+b, fade=b."""
    strength: float = 1.0
    start: float = 0.0
    end: float = 1.0
    fade: float = 0.0

    def scale(self, timesteps: torch.Tensor) -> torch.Tensor:
        percent = 1.0 - timesteps.float().reshape(-1) / 999.0  # 0 at the first (noisiest) step
        s = torch.full_like(percent, float(self.strength))
        s = torch.where((percent >= self.start - 1e-6) & (percent <= self.end + 1e-6), s, torch.zeros_like(s))
        if self.fade > 0:
            ramp = ((self.end - percent) / self.fade).clamp(0.0, 1.0)
            s = s * ramp
        return s


class DEIGPatch:
    """The wrapper and the block patch of one DEIG application (one per patched clone)."""

    def __init__(self, deig_patcher, schedule: Schedule):
        self.deig_patcher = deig_patcher
        self.schedule = schedule

    def __deepcopy__(self, memo):
        # ModelPatcher.clone() deep-copies model_options; the patch is immutable and must keep
        # sharing the DEIG weights instead of copying them.
        return self

    @property
    def model(self):
        return self.deig_patcher.model

    def diffusion_model_wrapper(self, executor, x, timesteps, context, y, control, transformer_options, **kwargs):
        grounding = kwargs.pop(KEY, None)
        if grounding is None:
            raise ValueError("DEIG Apply: this model is patched with DEIG, so its positive and negative conditioning "
                             "must both come from DEIG Encode / DEIG Encode Negative (got a conditioning without "
                             "DEIG data, e.g. from CLIPTextEncode)")
        expected = self.model.cfg.ide.input_dim
        if grounding.context_t5.shape[-1] != expected:
            raise ValueError(f"DEIG Apply: the conditioning was encoded with a {grounding.context_t5.shape[-1]}-dim text "
                             f"encoder but this DEIG model expects {expected} (Flan-T5-XL is 2048); use the T5 encoder "
                             "that belongs to these DEIG weights in DEIG T5 Encoder Loader")
        if grounding.batch != x.shape[0]:
            grounding = grounding.repeated(x.shape[0])
        state = StepState(self.model, grounding, timesteps, tuple(x.shape[-2:]), self.schedule.scale(timesteps),
                          x.device, x.dtype)
        options = dict(transformer_options)
        options[STATE_KEY] = state
        return executor(x, timesteps, state.context, y, control, options, **kwargs)

    def __call__(self, x, extra_options):
        """middle_patch: the fuser of this transformer block."""
        state = extra_options.get(STATE_KEY)
        if state is None:
            return x
        grid = tuple(extra_options["activations_shape"][-2:])
        return state.fuse(self.model, extra_options["block"], extra_options["block_index"], x, grid)


def apply_deig(model_patcher, deig_patcher, schedule: Schedule):
    """Return a clone of ``model_patcher`` with DEIG attached; the input model is never modified."""
    m = model_patcher.clone()
    patch = DEIGPatch(deig_patcher, schedule)
    m.remove_wrappers_with_key(comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, KEY)
    m.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, KEY, patch.diffusion_model_wrapper)
    patches = m.model_options["transformer_options"].get("patches", {})
    if "middle_patch" in patches:  # re-applying DEIG replaces the earlier application
        patches["middle_patch"] = [p for p in patches["middle_patch"] if not isinstance(p, DEIGPatch)]
    m.set_model_patch(patch, "middle_patch")
    m.set_additional_models(KEY, [deig_patcher])
    return m
