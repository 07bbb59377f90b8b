"""DEIG inside host graphs, in process: what ControlNet and other context readers see, and the gate
schedule as the host's own start/end percents define it."""
import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.integration

import comfy  # noqa: E402  (a missing host fails here: tests/conftest.py puts it on sys.path)
import comfy.controlnet  # noqa: E402
import comfy.model_management as mm  # noqa: E402
import comfy.sample  # noqa: E402
import comfy.samplers  # noqa: E402
import comfy.sd  # noqa: E402
from comfy_extras.nodes_model_advanced import ModelSamplingContinuousEDM, ModelSamplingDiscrete  # noqa: E402

from comfyui_deig.deig_core.grounding import Grounding  # noqa: E402
from comfyui_deig.nodes.nodes_encode import conditioning  # noqa: E402
from comfyui_deig.nodes.nodes_loaders import deig_patcher_from_state_dict  # noqa: E402
from comfyui_deig.nodes.patch import STATE_KEY, Schedule, apply_deig, sigma_to_percent  # noqa: E402
from comfyui_deig.deig_core.unet_layout import SD15_UNET  # noqa: E402
from devkit.example_models import deig_weights  # noqa: E402
from devkit.sd15_unet import sd15_patcher  # noqa: E402
from devkit.synthetic_models import sd15_checkpoint, sd15_controlnet  # noqa: E402


# ------------------------------------------------------------------------------------ gate schedule
def _samplings():
    base = sd15_patcher(dict(SD15_UNET, model_channels=32), device=torch.device("cpu"))  # only its sampling is used
    return {
        "discrete_eps": base.get_model_object("model_sampling"),
        "discrete_v": ModelSamplingDiscrete().patch(base, "v_prediction", False)[0].get_model_object("model_sampling"),
        "lcm": ModelSamplingDiscrete().patch(base, "lcm", False)[0].get_model_object("model_sampling"),
        "continuous_edm_v": ModelSamplingContinuousEDM().patch(base, "v_prediction", 120.0, 0.002)[0]
        .get_model_object("model_sampling"),
    }


SAMPLINGS = _samplings()


def _controlnet_active(model_sampling, start, end, sigma) -> bool:
    """Whether the host's ControlNet with this start/end percent runs at ``sigma``."""
    control = comfy.controlnet.ControlBase()
    control.set_cond_hint(torch.zeros(1, 3, 8, 8), 1.0, (start, end))
    control.pre_run(None, model_sampling.percent_to_sigma)
    lo_hi = control.timestep_range
    return not (sigma > lo_hi[0] or sigma < lo_hi[1])


@pytest.mark.parametrize("name", sorted(SAMPLINGS))
@pytest.mark.parametrize("start, end", [(0.0, 1.0), (0.2, 0.8), (0.0, 0.4), (0.5, 1.0)])
def test_gate_range_is_the_host_controlnet_range(name, start, end):
    ms = SAMPLINGS[name]
    sigmas = comfy.samplers.calculate_sigmas(ms, "normal", 20)[:-1].tolist()
    schedule = Schedule(strength=0.7, start=start, end=end)
    active = [_controlnet_active(ms, start, end, s) for s in sigmas]
    assert [schedule.gate(s, ms) for s in sigmas] == [0.7 if a else 0.0 for a in active]
    if (start, end) != (0.0, 1.0):
        assert any(active) and not all(active), "the range must cut this 20-step schedule"


@pytest.mark.parametrize("name", sorted(SAMPLINGS))
def test_fade_is_linear_in_the_host_percent(name):
    ms = SAMPLINGS[name]
    schedule = Schedule(strength=0.8, start=0.0, end=0.75, fade=0.5)
    for percent in (0.05, 0.25, 0.3, 0.5, 0.6, 0.7):
        sigma = float(ms.percent_to_sigma(percent))
        assert sigma_to_percent(ms, sigma) == pytest.approx(percent, abs=1e-6)
        expected = 0.8 * min(1.0, (0.75 - percent) / 0.5)
        assert schedule.gate(sigma, ms) == pytest.approx(expected, abs=1e-5)
    assert schedule.gate(float(ms.percent_to_sigma(0.8)), ms) == 0.0


def test_strength_scales_the_gate():
    ms = SAMPLINGS["discrete_eps"]
    sigma = float(ms.percent_to_sigma(0.5))
    assert [Schedule(strength=s).gate(sigma, ms) for s in (0.0, 0.5, 2.0)] == [0.0, 0.5, 2.0]


# ------------------------------------------------------------------------------------ full-size SD1.5
@pytest.fixture(scope="module")
def sd15():
    return comfy.sd.load_checkpoint_guess_config(str(sd15_checkpoint()), output_vae=False, output_clip=False)[0]


@pytest.fixture(scope="module")
def deig_full():
    return deig_patcher_from_state_dict(load_file(str(deig_weights())), dtype=torch.float32)


@pytest.fixture(scope="module")
def groundings(deig_full):
    g = torch.Generator().manual_seed(3)
    d = deig_full.model.cfg.ide.input_dim
    cond = Grounding(torch.randn(1, 128, d, generator=g), torch.randn(1, 2, 128, d, generator=g),
                     torch.tensor([[[0.0, 0.1, 0.5, 0.9], [0.5, 0.2, 1.0, 1.0]]]), torch.ones(1, 2, dtype=torch.bool))
    return cond, Grounding.null(torch.randn(1, 128, d, generator=g))


def _sample(model, positive, negative, steps, size=64, seed=0):
    latent = torch.zeros(1, 4, size // 8, size // 8)
    noise = comfy.sample.prepare_noise(latent, seed)
    return comfy.sample.sample(model, noise, steps, 5.0, "euler", "normal", positive, negative, latent,
                               disable_pbar=True, seed=seed)


def test_controlnet_and_unet_see_the_ide_context_of_every_step(sd15, deig_full, groundings):
    """A ControlNet in the SD1.5 format, loaded by the host, is called with the IDE output of each
    step for cond and uncond; an attn2 patch (what IP-Adapter-like packs use) sees the same."""
    cond_g, uncond_g = groundings
    control = comfy.controlnet.load_controlnet(str(sd15_controlnet()))
    c_net = control.copy().set_cond_hint(torch.rand(1, 3, 64, 64), 1.0, (0.0, 1.0))
    positive, negative = conditioning(cond_g), conditioning(uncond_g)
    for c in (positive, negative):  # as ControlNetApplyAdvanced does
        c[0][1].update(control=c_net, control_apply_to_uncond=False)
    seen_by_controlnet, orders, seen_by_attn2 = [], [], []
    hook = control.control_model.register_forward_pre_hook(
        lambda mod, args, kwargs: seen_by_controlnet.append((kwargs["context"].clone(), kwargs["timesteps"].clone())),
        with_kwargs=True)
    get_control = c_net.get_control

    def recording_get_control(x, t, cond, batched, transformer_options):
        orders.append(list(transformer_options["cond_or_uncond"]))
        return get_control(x, t, cond, batched, transformer_options)

    c_net.get_control = recording_get_control
    model = apply_deig(sd15, deig_full, Schedule())

    def attn2_recorder(q, context, value, extra_options):
        if extra_options["block"] == ("input", 1):
            seen_by_attn2.append(context.clone())
        return q, context, value

    model.set_model_attn2_patch(attn2_recorder)
    steps = 3
    try:
        _sample(model, positive, negative, steps)
    finally:
        hook.remove()
    assert len(seen_by_controlnet) == steps == len(orders) == len(seen_by_attn2)  # one batched call per step
    worst = 0.0
    for (context, timesteps), order, unet_context in zip(seen_by_controlnet, orders, seen_by_attn2):
        assert sorted(order) == [0, 1] and context.shape[0] == 2
        for k, which in enumerate(order):
            g = cond_g if which == 0 else uncond_g
            with torch.no_grad():
                expected = deig_full.model.IDE(g.context_t5, timesteps[k:k + 1].float())
            worst = max(worst, (context[k:k + 1] - expected).abs().max().item(),
                        (unet_context[k:k + 1] - expected).abs().max().item())
    print(f"max |context seen by ControlNet / attn2 - IDE output of that step| = {worst:.3g}")
    assert worst <= 1e-6
    assert not torch.equal(seen_by_controlnet[0][0][0], seen_by_controlnet[-1][0][0])  # changes per step


def test_sampler_gates_follow_the_schedule(sd15, deig_full, groundings):
    """The gate each UNet call of a real sampling gets is on exactly at the steps where the host's own
    ControlNet with the same start/end percents runs (its ``percent_to_sigma`` range), and is the strength there."""
    start, end = 0.2, 0.8
    model = apply_deig(sd15, deig_full, Schedule(strength=0.6, start=start, end=end))
    gates = []

    def gate_recorder(x, extra_options):
        if extra_options["block"] == ("input", 1):
            gates.append(extra_options[STATE_KEY].strength)
        return x

    model.set_model_patch(gate_recorder, "middle_patch")
    steps = 5
    _sample(model, *(conditioning(g) for g in groundings), steps)
    ms = model.get_model_object("model_sampling")
    sigmas = comfy.samplers.calculate_sigmas(ms, "normal", steps)[:-1].tolist()
    expected = [0.6 if _controlnet_active(ms, start, end, s) else 0.0 for s in sigmas]
    assert gates == expected
    assert 0.0 in expected and 0.6 in expected, "the window must cut this 5-step schedule"
    mm.cleanup_models_gc()


def _calls_recorder(model):
    """Record, per UNet call, the batch size and whether DEIG's step state reached the fuser blocks."""
    calls = []

    def recorder(x, extra_options):
        if extra_options["block"] == ("input", 1):
            state = extra_options.get(STATE_KEY)
            calls.append((x.shape[0], state is not None, state is not None and state.objs is not None,
                          list(extra_options["cond_or_uncond"])))
        return x

    model.set_model_patch(recorder, "middle_patch")
    return calls


@pytest.mark.parametrize("guidance", ["PerturbedAttentionGuidance", "SelfAttentionGuidance"])
def test_fusers_run_in_the_extra_passes_of_pag_and_sag(sd15, deig_full, groundings, guidance):
    from comfy_extras.nodes_pag import PerturbedAttentionGuidance
    from comfy_extras.nodes_sag import SelfAttentionGuidance

    model = apply_deig(sd15, deig_full, Schedule())
    if guidance == "PerturbedAttentionGuidance":
        model = PerturbedAttentionGuidance.execute(model, 3.0).args[0]
        extra = ([0], True)  # PAG re-runs the cond (with instances) with perturbed self-attention
    else:
        model = SelfAttentionGuidance.execute(model, 0.5, 2.0).args[0]
        extra = ([0], False)  # SAG re-runs the uncond (null grounding, its only cond there) on a degraded latent
    calls = _calls_recorder(model)
    _sample(model, *(conditioning(g) for g in groundings), steps=1, size=128)  # SAG needs a 2x2 middle block
    assert len(calls) == 2, calls
    assert sorted(calls[0][3]) == [0, 1] and calls[0][1] and calls[0][2]
    assert (calls[1][3], calls[1][2]) == extra and calls[1][1], "DEIG's state must reach the extra pass's fusers"


def test_layout_batch_is_one_batched_unet_call_per_step(sd15, deig_full, groundings):
    cond_g, uncond_g = groundings
    other = Grounding(cond_g.context_t5.flip(1), cond_g.instance_t5[:, :1], torch.tensor([[[0.3, 0.3, 0.6, 0.6]]]),
                      torch.ones(1, 1, dtype=torch.bool))
    model = apply_deig(sd15, deig_full, Schedule())
    calls = _calls_recorder(model)
    latent = torch.zeros(2, 4, 8, 8)
    noise = comfy.sample.prepare_noise(latent, 0)
    out = comfy.sample.sample(model, noise, 2, 5.0, "euler", "normal", conditioning(Grounding.concat([cond_g, other])),
                              conditioning(uncond_g), latent, disable_pbar=True, seed=0)
    assert [c[0] for c in calls] == [4, 4]  # 2 layouts x (cond, uncond), one call per step
    assert not torch.equal(out[0], out[1])
