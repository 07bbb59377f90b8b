"""How DEIG is attached to a ComfyUI model: the one code path used by the nodes and by `make parity`.

* The grounding travels with each conditioning as ``model_conds["deig"]`` (``DEIGCond``), so the host
  batches cond and uncond chunks into one UNet call and hands the batched ``Grounding`` to the model.
* An OUTER_SAMPLE wrapper (keyed ``"deig"``) owns what lives for one sampling (``Sampling``): the
  instance regions per latent size, the IDE context of the current step, which conditionings were
  checked. It sets it up before the sampler runs and drops it in ``finally``, so nothing is kept
  across runs and a hires second pass (another sampling, another latent size) builds its own.
* A CALC_COND_BATCH wrapper (keyed ``"deig"``) runs once per cond batch of a step (the step itself and
  the extra passes of PAG/SAG), before anything reads the conditioning: it makes each DEIG
  conditioning's ``c_crossattn`` its prompt's IDE output at each sample's timestep (once per
  conditioning and step), so ControlNet, control-LoRA, attn2 patches and the UNet all see the same IDE
  context, for cond and for the null-grounding uncond; and it puts the fuser gate of this step into the
  UNet call's ``transformer_options``. The gate follows the host's ``percent_to_sigma`` (as ControlNet
  and GLIGEN timestep ranges do); a schedule that is the same at every sigma needs no sigma at all.
* A DIFFUSION_MODEL wrapper (keyed ``"deig"``) runs once per UNet call: it builds the ``StepState``
  (object tokens) with the sampling's ``Regions`` and puts it into this call's ``transformer_options``.
  A UNet call that did not come through a cond batch has no gate and is refused.
* A ``middle_patch`` runs in every transformer block between self- and cross-attention and applies
  the fuser chosen by ``extra_options["block"]`` and ``["block_index"]``.
* The DEIG weights live in their own ModelPatcher, registered as an additional model so ComfyUI's
  model management loads, offloads and partially loads them with the UNet.

Nothing in a step reads a tensor value back to the host, except the step's sigma when the gate
schedule changes over the sampling (start > 0, end < 1 or a fade), exactly as a ControlNet with a
timestep range does.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

import comfy.conds
import comfy.patcher_extension

from ..deig_core.grounding import Grounding, Regions, StepState

log = logging.getLogger(__name__)

KEY = "deig"
STATE_KEY = "deig_state"
GATE_KEY = "deig_gate"
SAMPLING_KEY = "deig_sampling"


class DEIGCond(comfy.conds.CONDRegular):
    """A Grounding riding along a conditioning; batches with other DEIGConds of the same text length.

    ``placeholder`` is the CONDITIONING tensor the encode node emitted with it: when the conditioning's
    tensor no longer equals it, a node such as ConditioningConcat or ConditioningAverage has mixed
    other text into it, which DEIG cannot honour (its text context is the IDE output of its prompt)."""

    def __init__(self, cond, placeholder=None):
        super().__init__(cond)
        self.placeholder = placeholder

    def _copy_with(self, cond):
        return DEIGCond(cond, self.placeholder)

    def process_cond(self, batch_size, area=None, **kwargs):
        if self.cond.ide_context is None:  # DEIG's cond-batch wrapper did not run: the model has no DEIG Apply
            raise ValueError("DEIG Encode: this conditioning reached a sampler whose model has no DEIG Apply, so the "
                             "model would see a random placeholder instead of the prompt. Put DEIG Apply between "
                             "the model loader and the sampler")
        if area is not None:
            raise ValueError("DEIG: a DEIG conditioning was given an area (ConditioningSetArea, or "
                             "ConditioningSetMask with set_cond_area 'mask bounds'); DEIG's boxes are relative to "
                             "the whole image. Draw the region as a box in DEIG Instance Layout, or use "
                             "ConditioningSetMask with set_cond_area 'default'")
        return self._copy_with(self.cond.repeated(batch_size))

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

    @property
    def constant_gate(self) -> float | None:
        """The gate when it is the same at every sigma (strength 0, or the whole schedule with no fade), else None."""
        if self.strength == 0:
            return 0.0
        if self.start <= 0 and self.end >= 1 and self.fade <= 0:
            return float(self.strength)
        return None

    def bounds(self, model_sampling) -> tuple[float, float]:
        """The sigmas where the gate turns on and off, from the host's ``percent_to_sigma``."""
        return float(model_sampling.percent_to_sigma(self.start)), float(model_sampling.percent_to_sigma(self.end))

    def gate(self, sigma: float, model_sampling, bounds: tuple[float, float] | None = None) -> float:
        """Gate scale at the step with noise level ``sigma``. The range test compares sigmas converted
        with the host's ``percent_to_sigma`` (``bounds``, when already known), exactly as ControlNet and
        GLIGEN timestep ranges do; the fade is linear in the host's percent of this sigma."""
        high, low = bounds or self.bounds(model_sampling)
        if sigma > high or sigma < low:
            return 0.0
        if self.fade <= 0:
            return float(self.strength)
        percent = sigma_to_percent(model_sampling, sigma)
        return float(self.strength) * min(max((self.end - percent) / self.fade, 0.0), 1.0)


def sigma_to_percent(model_sampling, sigma: float, iterations: int = 48) -> float:
    """Inverse of the host's ``percent_to_sigma`` (decreasing in percent), by bisection."""
    lo, hi = 0.0, 1.0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if float(model_sampling.percent_to_sigma(mid)) > sigma:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


class Sampling:
    """What one DEIG sampling keeps; made by the OUTER_SAMPLE wrapper and dropped when the sampling ends.

    ``checked``: the DEIG conditionings whose placeholder was compared (once per sampling; holding them
    keeps their ids unique while they are keys). ``contexts``: each conditioning's IDE output of the
    current step, keyed by the step's timestep tensor, which the extra passes of PAG/SAG reuse.
    ``regions``: the ``Regions`` of each batch of layouts and latent size. ``gates``: with a fade, the
    schedule's gate at each sigma of the sampler's schedule, worked out when the sampling starts."""

    def __init__(self, gates: dict[float, float] | None = None):
        self.checked: dict[int, object] = {}
        self.contexts: dict[tuple, tuple] = {}
        self.regions: dict[tuple, Regions] = {}
        self.gates = gates or {}
        self.bounds: tuple[float, float] | None = None

    def gate(self, schedule: Schedule, timestep: torch.Tensor, model_sampling) -> float:
        """The fuser gate of the step at ``timestep`` (sigmas)."""
        if schedule.constant_gate is not None:
            return schedule.constant_gate
        if self.bounds is None:
            self.bounds = schedule.bounds(model_sampling)
        sigma = float(timestep.reshape(-1)[0])  # the one host read of a step, for a schedule that changes
        gate = self.gates.get(sigma)
        return schedule.gate(sigma, model_sampling, self.bounds) if gate is None else gate

    def regions_for(self, grounding: Grounding, latent_hw: tuple[int, int], device) -> Regions:
        keys = grounding.layout_keys
        if any(k is None for k in keys):  # not from a cond batch of this sampling: nothing to share
            return Regions(grounding, latent_hw, device)
        key = (keys, grounding.slots, tuple(latent_hw), device)
        if key not in self.regions:
            self.regions[key] = Regions(grounding, latent_hw, device)
        return self.regions[key]

    def close(self):
        self.checked.clear()
        self.contexts.clear()
        self.regions.clear()


class DEIGPatch:
    """The wrappers and the block patch of one DEIG application (one per patched clone)."""

    def __init__(self, deig_patcher, schedule: Schedule):
        self.deig_patcher = deig_patcher
        self.schedule = schedule

    def __deepcopy__(self, memo):
        # ModelPatcher.clone() deep-copies model_options; the patch holds no per-run state (that lives in
        # the Sampling of each run) and must keep sharing the DEIG weights instead of copying them.
        return self

    @property
    def model(self):
        return self.deig_patcher.model

    def outer_sample_wrapper(self, executor, noise, latent_image, sampler, sigmas, *args, **kwargs):
        """One sampling: its ``Sampling`` lives in the guider's model_options for exactly this run."""
        guider = executor.class_obj
        gates = None
        if self.schedule.constant_gate is None and self.schedule.fade > 0:  # the fade's bisections, once
            model_sampling = guider.model_patcher.get_model_object("model_sampling")
            bounds = self.schedule.bounds(model_sampling)
            gates = {s: self.schedule.gate(s, model_sampling, bounds) for s in sigmas.reshape(-1).tolist()}
        options = guider.model_options.setdefault("transformer_options", {})
        sampling = options[SAMPLING_KEY] = Sampling(gates)
        try:
            return executor(noise, latent_image, sampler, sigmas, *args, **kwargs)
        finally:
            options.pop(SAMPLING_KEY, None)
            sampling.close()

    def calc_cond_batch_wrapper(self, executor, model, conds, x_in, timestep, model_options):
        """Per cond batch: every DEIG conditioning's ``c_crossattn`` becomes its prompt's IDE output for this
        step (what ControlNet and the UNet read), and the fuser gate of this step is put into the
        transformer_options of every UNet call the batch makes."""
        # a cond batch outside a sampling (a tool calling calc_cond_batch) is its own one-call sampling
        sampling = model_options.get("transformer_options", {}).get(SAMPLING_KEY) or Sampling()
        gate = sampling.gate(self.schedule, timestep, model.model_sampling)
        t = model.model_sampling.timestep(timestep.reshape(-1)).float()
        dtype = model.manual_cast_dtype or model.get_dtype()
        resolved = [None if c is None else [self._with_ide_context(sampling, x, timestep, t, x_in.device, dtype)
                                            for x in c] for c in conds]
        options = dict(model_options)
        options["transformer_options"] = dict(model_options.get("transformer_options", {}))
        options["transformer_options"][GATE_KEY] = gate
        options["transformer_options"][SAMPLING_KEY] = sampling
        return executor(model, resolved, x_in, timestep, options)

    def _with_ide_context(self, sampling: Sampling, cond: dict, timestep, t: torch.Tensor, device, dtype) -> dict:
        model_conds = cond.get("model_conds", {})
        deig_cond = model_conds.get(KEY)
        if deig_cond is None:
            return cond  # refused with a clear message in the UNet wrapper
        if id(deig_cond) not in sampling.checked:
            text = model_conds.get("c_crossattn")
            if deig_cond.placeholder is not None and (
                    text is None or not torch.equal(text.cond.cpu(), deig_cond.placeholder)):
                raise ValueError("DEIG: a DEIG conditioning's text tensor was changed by another node (ConditioningConcat, "
                                 "ConditioningAverage, ConditioningZeroOut...); DEIG's text context is the IDE output of "
                                 "the DEIG Encode prompt, so it cannot be mixed with other text. Write the text into the "
                                 "DEIG Encode prompt, or combine whole conditionings with ConditioningCombine")
            sampling.checked[id(deig_cond)] = deig_cond
        g = deig_cond.cond
        if t.shape[0] % g.batch:
            raise ValueError(f"DEIG Encode: input 'layout' is a batch of {g.batch} layouts but the latent batch "
                             f"is {t.shape[0]}; set the latent batch_size to {g.batch} (or a multiple)")
        key = (id(g), device, dtype)
        cached = sampling.contexts.get(key)
        if cached is None or cached[0] is not timestep:
            full = g.repeated(t.shape[0])  # one context per sample, at that sample's own timestep
            with torch.no_grad():
                context = self.model.IDE(full.context_t5.to(device, dtype), t.to(device))
            # the timestep tensor identifies the step; holding it and g keeps both ids from being reused
            cached = sampling.contexts[key] = (timestep, g, full.with_context(context, [(id(g), i) for i in range(full.batch)]))
        resolved = cached[2]
        new = dict(cond)
        new["model_conds"] = {**model_conds, "c_crossattn": comfy.conds.CONDCrossAttn(resolved.ide_context),
                              KEY: deig_cond._copy_with(resolved)}
        return new

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
        gate, sampling = transformer_options.get(GATE_KEY), transformer_options.get(SAMPLING_KEY)
        if gate is None or sampling is None:
            raise ValueError("DEIG Apply: the DEIG-patched UNet was called outside a sampler's cond batch "
                             "(comfy.samplers.calc_cond_batch), so it has no step: no gate for this noise level and "
                             "no IDE context. Sample the patched model with a sampler node, or call calc_cond_batch")
        if grounding.batch != x.shape[0]:
            grounding = grounding.repeated(x.shape[0])
        regions = sampling.regions_for(grounding, tuple(x.shape[-2:]), x.device)
        state = StepState(self.model, grounding, timesteps, regions, gate, x.device, x.dtype)
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
    for kind, wrapper in ((comfy.patcher_extension.WrappersMP.OUTER_SAMPLE, patch.outer_sample_wrapper),
                          (comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, patch.diffusion_model_wrapper),
                          (comfy.patcher_extension.WrappersMP.CALC_COND_BATCH, patch.calc_cond_batch_wrapper)):
        m.remove_wrappers_with_key(kind, KEY)
        m.add_wrapper_with_key(kind, KEY, wrapper)
    patches = m.model_options["transformer_options"].get("patches", {})
    if "middle_patch" in patches:  # re-applying DEIG replaces the earlier application
        patches["middle_patch"] = [p for p in patches["middle_patch"] if not isinstance(p, DEIGPatch)]
    m.set_model_patch(patch, "middle_patch")
    m.set_additional_models(KEY, [deig_patcher])
    return m
