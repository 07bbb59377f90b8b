"""DEIG on the real host's UNet, model patcher and samplers (in-process, tiny reference config)."""
import json
import os

import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.integration

import comfy  # noqa: E402  (a missing host fails here: tests/conftest.py puts it on sys.path)
import comfy.lora  # noqa: E402
import comfy.model_management as mm  # noqa: E402
import comfy.sample  # noqa: E402
import comfy.samplers  # noqa: E402
import comfy.sd  # noqa: E402
import comfy.supported_models  # noqa: E402

from comfyui_deig.deig_core.grounding import Grounding  # noqa: E402
from comfyui_deig.deig_core.model import split_official  # noqa: E402
from devkit.seeded_weights import seeded_state_dict  # noqa: E402
from devkit import sd15_unet  # noqa: E402
from comfyui_deig.nodes.nodes_apply import check_compatible  # noqa: E402
from comfyui_deig.nodes.nodes_encode import SD15_CONTEXT, conditioning  # noqa: E402
from comfyui_deig.nodes.nodes_loaders import deig_patcher_from_state_dict  # noqa: E402
from comfyui_deig.nodes.patch import Schedule, apply_deig  # noqa: E402
from devkit.host_reads import HostReads  # noqa: E402
from devkit.sd15_unet import transformer_options_for_call  # noqa: E402

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures")
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def ref():
    meta = json.load(open(os.path.join(FIX, "deig_reference_vectors.json")))
    vec = load_file(os.path.join(FIX, "deig_reference_vectors.safetensors"))
    weights = seeded_state_dict(meta["state_dict_shapes"])
    deig_sd, unet_keys, _ = split_official(weights)
    unet_sd = {k: weights[k] for k in unet_keys}
    return meta, vec, deig_sd, unet_sd


def _new_base(ref):
    meta, _, _, unet_sd = ref
    return sd15_unet.sd15_patcher(meta["unet_config"], unet_sd, device=CPU)


@pytest.fixture(scope="module")
def base(ref):
    return _new_base(ref)


@pytest.fixture(scope="module")
def deig(ref):
    meta, _, deig_sd, _ = ref
    return deig_patcher_from_state_dict(deig_sd, ide_heads=meta["ide_config"].get("heads", 8))


def forward(model, x, t, conditionings, load_models=True):
    """eps of each CONDITIONING, computed as one sampler step computes it (the host's calc_cond_batch)."""
    return sd15_unet.eps_through_cond_batch(model, x, t, conditionings, load_models)


def cond_grounding(vec):
    return Grounding(vec["in.context_t5"], vec["in.instance_t5"], vec["in.boxes"], vec["in.presence"] > 0.5)


def test_parity_with_the_reference_vectors():
    from devkit import parity

    errs = parity.run(os.path.join(FIX, "deig_reference_vectors.safetensors"),
                      os.path.join(FIX, "deig_reference_vectors.json"))
    assert errs["eps_cond"] <= 1e-4 and errs["eps_uncond"] <= 1e-4, errs


def test_strength_zero_equals_unpatched_unet_with_same_ide_context(base, deig, ref):
    _, vec, _, _ = ref
    x, t = vec["in.x"], vec["in.timesteps"]
    positive = conditioning(cond_grounding(vec))
    (out,) = forward(apply_deig(base, deig, Schedule(strength=0.0)), x, t, [positive])
    with torch.no_grad():
        ctx = deig.model.IDE(vec["in.context_t5"], t)
    (plain,) = forward(base, x, t, [[[ctx, {}]]])
    assert torch.equal(out, plain)
    assert not torch.equal(forward(apply_deig(base, deig, Schedule()), x, t, [positive])[0], plain)


@pytest.mark.parametrize("order", ["cond_first", "uncond_first"])
def test_cond_and_uncond_chunks_get_their_own_payloads(base, deig, ref, order):
    _, vec, _, _ = ref
    x, t = vec["in.x"], vec["in.timesteps"]
    cond, uncond = conditioning(cond_grounding(vec)), conditioning(Grounding.null(vec["in.uncond_context_t5"]))
    m = apply_deig(base, deig, Schedule())
    if order == "cond_first":
        got_cond, got_uncond = forward(m, x, t, [cond, uncond])
    else:
        got_uncond, got_cond = forward(m, x, t, [uncond, cond])
    assert (got_cond - vec["out.eps_cond"]).abs().max() < 1e-4
    assert (got_uncond - vec["out.eps_uncond"]).abs().max() < 1e-4


def test_unet_call_outside_a_cond_batch_is_refused(base, deig, ref):
    """A direct UNet call has no step (no sigma, no IDE context): it is an error, not a full-strength guess."""
    _, vec, _, _ = ref
    m = apply_deig(base, deig, Schedule())
    mm.load_models_gpu([m])
    x, t = vec["in.x"], vec["in.timesteps"]
    with torch.no_grad(), pytest.raises(ValueError, match="outside a sampler's cond batch"):
        m.model.diffusion_model(x, t, context=torch.zeros(1, *SD15_CONTEXT),
                                transformer_options=transformer_options_for_call(m), deig=cond_grounding(vec))


def _patcher_state(m) -> tuple:
    """Everything a patch could change on a ModelPatcher, deeply: options, wrappers, callbacks, extra
    models, weight patches, and the UNet's weights."""
    def shape(v):
        if isinstance(v, dict):
            return {k: shape(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [shape(x) for x in v]
        return v if isinstance(v, (str, int, float, bool, type(None))) else id(v)
    weights = {k: v.clone() for k, v in m.model.diffusion_model.state_dict().items()}
    return (shape(m.model_options), shape(m.wrappers), shape(m.callbacks), shape(m.additional_models),
            shape(m.patches), weights)


def test_input_model_is_never_modified(ref, deig, conds):
    fresh = _new_base(ref)
    before = _patcher_state(fresh)
    patched = apply_deig(fresh, deig, Schedule())
    _sample(patched, *conds)                      # patching and sampling with the clone
    after = _patcher_state(fresh)
    assert before[:5] == after[:5]
    assert before[5].keys() == after[5].keys() and all(torch.equal(before[5][k], after[5][k]) for k in before[5])


def _sample(model, positive, negative, seed=0, size=(64, 96), batch=1, steps=2, custom=False, noise=None):
    latent = torch.zeros(batch, 4, size[0] // 8, size[1] // 8)
    noise = comfy.sample.prepare_noise(latent, seed) if noise is None else noise
    if custom:
        sampler = comfy.samplers.sampler_object("euler")
        sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "normal", steps)
        return comfy.sample.sample_custom(model, noise, 5.0, sampler, sigmas, positive, negative, latent,
                                          disable_pbar=True, seed=seed)
    return comfy.sample.sample(model, noise, steps, 5.0, "euler", "normal", positive, negative, latent,
                               disable_pbar=True, seed=seed)


@pytest.fixture(scope="module")
def conds(ref):
    _, vec, _, _ = ref
    return conditioning(cond_grounding(vec)), conditioning(Grounding.null(vec["in.uncond_context_t5"]))


def _mirrored(g: Grounding) -> Grounding:
    """The same prompt and descriptions with every box mirrored left-right: another layout."""
    x1, y1, x2, y2 = g.boxes.unbind(-1)
    return Grounding(g.context_t5, g.instance_t5, torch.stack([1 - x2, y1, 1 - x1, y2], -1), g.presence)


@pytest.mark.parametrize("custom", [False, True], ids=["KSampler", "SamplerCustom"])
def test_samplers_batch2_non_square(base, deig, ref, conds, custom):
    """A batch of two layouts in one sampling (96x64): sample i is what layout i gives sampled alone with
    the same noise, and not what the other layout gives."""
    _, vec, _, _ = ref
    layouts = [cond_grounding(vec), _mirrored(cond_grounding(vec))]
    negative = conds[1]
    model = apply_deig(base, deig, Schedule())
    size = (96, 64)
    noise = comfy.sample.prepare_noise(torch.zeros(2, 4, size[0] // 8, size[1] // 8), 0)
    out = _sample(model, conditioning(Grounding.concat(layouts)), negative, size=size, batch=2, custom=custom,
                  noise=noise)
    assert out.shape == (2, 4, 12, 8) and torch.isfinite(out).all()
    alone = [[_sample(model, conditioning(g), negative, size=size, custom=custom, noise=noise[i:i + 1])[0]
              for g in layouts] for i in range(2)]  # alone[i][j]: noise of sample i, layout j
    for i in range(2):
        # batch 2 vs batch 1 reorders float sums: about 3e-6 of the (random UNet's) latent scale, with or without DEIG
        tolerance = 1e-5 * out[i].abs().max()
        own, other = (alone[i][i] - out[i]).abs().max(), (alone[i][1 - i] - out[i]).abs().max()
        assert own < tolerance, f"sample {i} is not what its layout gives alone (max diff {own}, tolerance {tolerance})"
        assert other > 100 * tolerance, f"sample {i}: the two layouts give the same sample (diff {other})"


def test_two_patched_clones_are_independent(base, deig, conds):
    a = apply_deig(base, deig, Schedule(strength=1.0))
    b = apply_deig(base, deig, Schedule(strength=0.3, end=0.5))
    ra = _sample(a, *conds)
    rb = _sample(b, *conds)
    assert not torch.equal(ra, rb)
    assert torch.equal(_sample(a, *conds), ra)
    assert torch.equal(_sample(b, *conds), rb)


def test_same_model_with_and_without_deig(base, deig, conds, ref):
    _, vec, _, _ = ref
    clip_like = [[torch.randn(1, *SD15_CONTEXT, generator=torch.Generator().manual_seed(1)), {}]]
    plain_before = _sample(base, clip_like, clip_like)
    _sample(apply_deig(base, deig, Schedule()), *conds)
    assert torch.equal(_sample(base, clip_like, clip_like), plain_before)


def test_deig_conditioning_on_a_model_without_deig_apply_is_refused(base, conds):
    with pytest.raises(ValueError, match="Put DEIG Apply between"):
        _sample(base, *conds)


def test_patched_model_without_deig_conditioning_says_what_to_fix(base, deig):
    clip_like = [[torch.zeros(1, *SD15_CONTEXT), {}]]
    with pytest.raises(ValueError, match="DEIG Encode"):
        _sample(apply_deig(base, deig, Schedule()), clip_like, clip_like)


def _host_reads_per_step(model, positive, negative) -> tuple[int, dict]:
    """Host reads of tensor values that one more sampling step adds (3 steps minus 2 steps)."""
    counts = []
    for steps in (2, 3):
        with HostReads() as reads:
            _sample(model, positive, negative, steps=steps)
        counts.append(reads.by_op)
    return sum(counts[1].values()) - sum(counts[0].values()), dict(counts[1] - counts[0])


@pytest.mark.parametrize("schedule, extra", [(Schedule(), 0), (Schedule(start=0.2, end=0.8), 1)],
                         ids=["whole_schedule_no_extra_read", "start_end_window_reads_the_sigma_once"])
def test_host_reads_per_sampling_step_over_plain_sd15(base, deig, conds, schedule, extra):
    """A DEIG step reads no tensor value back beyond what plain SD1.5 reads; a gate window that
    changes over the sampling reads the step's sigma once (as the host's ControlNet range does)."""
    clip_like = [[torch.randn(1, *SD15_CONTEXT, generator=torch.Generator().manual_seed(1)), {}]]
    plain, plain_ops = _host_reads_per_step(base, clip_like, clip_like)
    with_deig, deig_ops = _host_reads_per_step(apply_deig(base, deig, schedule), *conds)
    print(f"host reads per step: plain SD1.5 {plain} {plain_ops}, with DEIG {with_deig} {deig_ops}")
    assert with_deig - plain == extra


def _lora_for(model, scale=0.5):
    key_map = comfy.lora.model_lora_keys_unet(model.model, {})
    g = torch.Generator().manual_seed(3)
    lora = {}
    for name, target in key_map.items():
        if not (isinstance(name, str) and name.startswith("lora_unet_") and target.endswith("attn2.to_q.weight")):
            continue
        out_f, in_f = model.model.state_dict()[target].shape
        lora[f"{name}.lora_up.weight"] = torch.randn(out_f, 4, generator=g) * scale
        lora[f"{name}.lora_down.weight"] = torch.randn(4, in_f, generator=g) * scale
    assert lora
    return lora


def test_lora_after_apply_changes_the_unet_not_deig(base, deig, conds):
    patched = apply_deig(base, deig, Schedule())
    deig_before = {k: v.clone() for k, v in deig.model.state_dict().items()}
    without = _sample(patched, *conds)
    with_lora, _ = comfy.sd.load_lora_for_models(patched, None, _lora_for(base), 1.0, 0.0)
    changed = _sample(with_lora, *conds)
    assert not torch.equal(changed, without)
    assert all(torch.equal(v, deig_before[k]) for k, v in deig.model.state_dict().items())
    assert torch.equal(_sample(patched, *conds), without)  # the LoRA did not leak into the clone it came from
    lora_first, _ = comfy.sd.load_lora_for_models(base, None, _lora_for(base), 1.0, 0.0)
    assert torch.equal(_sample(apply_deig(lora_first, deig, Schedule()), *conds), changed)


def test_partially_loaded_deig_modules_give_the_fully_loaded_result(base, deig, ref):
    """DEIG weights left partially loaded (the host's lowvram mode: most weights cast per call) give the
    result of the fully loaded ones, and really were partially loaded while the step ran."""
    meta, vec, deig_sd, _ = ref
    x, t = vec["in.x"], vec["in.timesteps"]
    step = [conditioning(cond_grounding(vec)), conditioning(Grounding.null(vec["in.uncond_context_t5"]))]
    full = forward(apply_deig(base, deig, Schedule()), x, t, step)
    d = deig_patcher_from_state_dict(deig_sd, ide_heads=meta["ide_config"].get("heads", 8))
    d.load(CPU, lowvram_model_memory=1)  # the host's partial load: weights cast per call
    patched = apply_deig(base, d, Schedule())
    seen = []
    patched.set_model_patch(lambda x, extra: seen.append((d.model.model_lowvram, d.loaded_size())) or x, "middle_patch")
    mm.load_models_gpu([base])
    out = forward(patched, x, t, step, load_models=False)  # the host would load d fully on a CPU
    assert seen and all(lowvram and loaded < d.model_size() for lowvram, loaded in seen), seen[:1]
    for got, want in zip(out, full):
        assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()


def test_non_sd15_model_is_refused(deig):
    cfg = {"in_channels": 4, "out_channels": 4, "model_channels": 32, "channel_mult": [1, 2, 4, 4],
           "num_res_blocks": 2, "attention_resolutions": [4, 2, 1], "num_heads": 8, "context_dim": 1024}
    model_config = comfy.supported_models.SD20(sd15_unet.host_unet_config(cfg))
    sd2 = comfy.model_patcher.ModelPatcher(model_config.get_model({}, device="cpu"), CPU, CPU)
    with pytest.raises(ValueError, match="input 'model' is a SD20 model"):
        check_compatible(sd2, deig)
