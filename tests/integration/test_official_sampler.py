"""The official inference's sampler with the host's samplers: dushy5/DEIG's "Euler" sampler is a
deterministic DDIM update (eta 0) on the uniform discretisation of the 1000 training steps shifted by
one, 40 steps, CFG 7.5. In ComfyUI that is KSampler ``ddim`` (or ``euler``) with scheduler
``ddim_uniform`` and 40 steps."""
import pytest
import torch

pytestmark = pytest.mark.integration

import comfy  # noqa: E402  (a missing host fails here: tests/conftest.py puts it on sys.path)
import comfy.sample  # noqa: E402
import comfy.samplers  # noqa: E402

from comfyui_deig.deig_core.unet_layout import SD15_UNET  # noqa: E402
from devkit.sd15_unet import sd15_patcher  # noqa: E402
from devkit.seeded_weights import seeded_fill_  # noqa: E402

STEPS = 40
OFFICIAL_TIMESTEPS = [1 + (1000 // STEPS) * k for k in range(STEPS)]  # 1, 26, ..., 976, visited from the top


@pytest.fixture(scope="module")
def model():
    patcher = sd15_patcher(dict(SD15_UNET, model_channels=32), device=torch.device("cpu"))  # narrow SD1.5 UNet
    seeded_fill_(patcher.model.diffusion_model, 0)
    return patcher


def test_ddim_uniform_visits_the_official_timesteps(model):
    ms = model.get_model_object("model_sampling")
    sigmas = comfy.samplers.calculate_sigmas(ms, "ddim_uniform", STEPS)
    timesteps = ms.timestep(sigmas[:-1])
    assert torch.round(timesteps).long().tolist() == OFFICIAL_TIMESTEPS[::-1]
    assert (timesteps - timesteps.round()).abs().max() < 1e-3
    assert float(sigmas[-1]) == 0.0  # the host's last step lands on sigma 0 (the official one on t = 0)


def _ddim_reference(model, noise_vp, context, uncond, cfg, alphas_t, alphas_prev, timesteps):
    """Deterministic DDIM (eta 0) in the variance-preserving form of the DDIM paper."""
    unet = model.model.diffusion_model
    x = noise_vp
    for t, a_t, a_prev in zip(timesteps, alphas_t, alphas_prev):
        ts = torch.full((2,), float(t))
        with torch.no_grad():
            eps_c, eps_u = unet(torch.cat([x, x]), ts, context=torch.cat([context, uncond])).chunk(2)
        eps = eps_u + cfg * (eps_c - eps_u)
        x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
        x = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return x


def test_host_sampler_is_the_official_ddim_update(model):
    """The first steps of KSampler ``ddim`` / ``ddim_uniform`` / 40 are the DDIM update on the official
    timesteps, compared step by step."""
    g = torch.Generator().manual_seed(0)
    context, uncond = torch.randn(1, 77, 768, generator=g), torch.randn(1, 77, 768, generator=g)
    latent = torch.zeros(1, 4, 8, 8)
    noise = torch.randn(latent.shape, generator=g)
    ms = model.get_model_object("model_sampling")
    sigmas = comfy.samplers.calculate_sigmas(ms, "ddim_uniform", STEPS)
    alphas = [1.0 / (1.0 + float(s) ** 2) for s in sigmas]  # alpha_bar of each visited sigma; 1 at sigma 0
    timesteps = torch.round(ms.timestep(sigmas[:-1])).tolist()
    # The host starts from noise * sigma (sqrt(1 - alpha_bar) in VP form) and ends at sigma 0; the official
    # sampler starts from unit noise and ends at alpha_bar(t=0). Same update, same timesteps.
    x_vp = noise * (1.0 - alphas[0]) ** 0.5
    for n in (1, 2, 3):
        out = comfy.sample.sample(model, noise, STEPS, 7.5, "ddim", "ddim_uniform", [[context, {}]], [[uncond, {}]],
                                  latent, disable_pbar=True, seed=0, last_step=n)
        host_vp = model.model.latent_format.process_in(out) * alphas[n] ** 0.5  # the host's x at sigma_n, VP form
        x_vp = _ddim_reference(model, x_vp, context, uncond, 7.5, alphas[n - 1:n], alphas[n:n + 1],
                               timesteps[n - 1:n])
        assert (host_vp - x_vp).abs().max() < 1e-4 * x_vp.abs().max(), n
        x_vp = host_vp  # compare the next update from the same point
