"""`make bench`: speed and memory of DEIG on a full-size SD1.5 UNet (random weights), on this machine.

Prints one line per figure, ``bench <name>=<value>``. Every ratio is measured inside the same run.
Defaults: 30 instances x 16 tokens, 512x512 (64x64 latent), CFG batch 2 (cond + null-grounding
uncond), float32 on the CPU (``--device cuda --dtype fp16`` on a GPU). Peak memory figures come from
child processes (``VmHWM`` on the CPU, the allocator's peak on CUDA) so one measurement cannot
hide another's peak.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from devkit.comfy_env import import_pack  # noqa: E402
from devkit.seeded_weights import seeded_fill_  # noqa: E402

N_INST, S_TOK = 30, 16


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


class Peak:
    """Extra peak memory (bytes) of a region over what was resident when it started."""

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            self.base = _rss_kb("VmRSS:") * 1024
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.extra = torch.cuda.max_memory_allocated() - self.base
        else:
            self.extra = _rss_kb("VmHWM:") * 1024 - self.base


def timed(fn, device, repeat: int, warmup: bool = True) -> float:
    def once():
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t

    if warmup:
        once()
    return statistics.median(once() for _ in range(repeat))


# ---------------------------------------------------------------- fixtures
def layout(n=N_INST, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 0.7
    wh = torch.rand(n, 2, generator=g) * 0.25 + 0.05
    return torch.cat([xy, (xy + wh).clamp(max=1.0)], dim=1)


def deig_model(device, dtype):
    from comfyui_deig.deig_core.model import DEIGConfig, DEIGModel, FuserSpec
    from comfyui_deig.deig_core.unet_layout import SD15_UNET, unet_layout

    cfg = DEIGConfig(fusers=tuple(FuserSpec(b, i, c) for b, i, c in unet_layout(SD15_UNET).blocks))
    return seeded_fill_(DEIGModel(cfg)).to(device, dtype).eval().requires_grad_(False)


def sd15_unet_patcher(device, dtype):
    from comfyui_deig.deig_core.unet_layout import SD15_UNET
    from devkit.sd15_unet import sd15_patcher

    patcher = sd15_patcher(SD15_UNET, dtype=dtype, device=device)
    seeded_fill_(patcher.model.diffusion_model)
    patcher.model.diffusion_model.to(device, dtype)
    return patcher


def groundings(device, n=N_INST, text_len=128, text_dim=2048, pair=True):
    """The batched cond + null-grounding uncond of one UNet call (named as one sampling names its layouts),
    or (``pair=False``) the two groundings apart."""
    from comfyui_deig.deig_core.grounding import Grounding

    g = torch.Generator().manual_seed(1)
    cond = Grounding(torch.randn(1, text_len, text_dim, generator=g), torch.randn(1, n, text_len, text_dim, generator=g),
                     layout(n)[None], torch.ones(1, n, dtype=torch.bool))
    uncond = Grounding.null(torch.randn(1, text_len, text_dim, generator=g))
    if not pair:
        return cond, uncond
    return replace(Grounding.concat([cond, uncond]), layout_keys=(("cond", 0), ("uncond", 0)))


# ---------------------------------------------------------------- fuser-level measures
def fuser_case(device, dtype, hw=64, dim=320):
    from comfyui_deig.deig_core.fuser import GatedSelfAttentionFuser
    from comfyui_deig.deig_core.masks import region_masks

    fuser = seeded_fill_(GatedSelfAttentionFuser(dim, 768, 8)).to(device, dtype).eval()
    x = torch.randn(2, hw * hw, dim, device=device, dtype=dtype)
    objs = torch.randn(2, N_INST * S_TOK, 768, device=device, dtype=dtype)
    allowed = region_masks(layout(), (hw, hw), (hw, hw)).flatten(1).T
    allowed = torch.stack([allowed, torch.zeros_like(allowed)]).to(device)
    return fuser, x, objs, allowed


def measure_fuser(kind, device, dtype, repeat):
    from devkit.dense_reference import dense_fuser_forward

    fuser, x, objs, allowed = fuser_case(device, dtype)
    fn = (lambda: fuser(x, objs, allowed, 1.0)) if kind == "fast" else (lambda: dense_fuser_forward(fuser, x, objs, allowed))
    with torch.no_grad():
        with Peak(device) as peak:
            fn()
        return {"time": timed(fn, device, repeat), "mem": peak.extra}


# ---------------------------------------------------------------- whole-step measures
class FloorPatch:
    """Unmasked gated self-attention of the same shapes: visual rows over [visual; all object tokens]."""

    def __init__(self, deig, objs):
        self.deig, self.objs = deig, objs

    def __call__(self, x, extra):
        import torch.nn.functional as F

        f = self.deig.fuser_for(extra["block"], extra["block_index"])
        a = f.attn
        nx, no = f.norm1(x), f.norm1(f.linear(self.objs.to(x)))
        q = a.split(a.to_q(nx))
        k = a.split(torch.cat([a.to_k(nx), a.to_k(no)], 1))
        v = a.split(torch.cat([a.to_v(nx), a.to_v(no)], 1))
        out = a.to_out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2))
        x = x + torch.tanh(f.alpha_attn) * out
        return x + torch.tanh(f.alpha_dense) * f.ff(f.norm2(x))


def gligen_patch(latent_shape, device, dtype):
    import comfy.gligen

    dims = [320] * 2 + [640] * 2 + [1280] * 2 + [1280] + [1280] * 3 + [640] * 3 + [320] * 3
    modules = [comfy.gligen.GatedSelfAttentionDense(d, 768, 8, d // 8) for d in dims]
    gligen = seeded_fill_(comfy.gligen.Gligen(modules, comfy.gligen.PositionNet(768, 768), 768)).to(device, dtype)
    b, _, h, w = latent_shape
    params = []
    for x1, y1, x2, y2 in layout().tolist():
        params.append([torch.randn(1, 768, device=device, dtype=dtype), (y2 - y1) * h, (x2 - x1) * w, y1 * h, x1 * w])
    return gligen.set_position(latent_shape, params, device)


def step_inputs(kind, base, deig, latent_shape, device, dtype):
    """(transformer_options, UNet kwargs) of one step kind on ``base``'s UNet."""
    from comfyui_deig.nodes.patch import Schedule, apply_deig
    from devkit.sd15_unet import transformer_options_for_call

    import comfy.model_patcher

    if kind == "deig":
        from comfyui_deig.nodes.patch import GATE_KEY, SAMPLING_KEY, Sampling

        patcher = comfy.model_patcher.ModelPatcher(deig, device, device)
        options = transformer_options_for_call(apply_deig(base, patcher, Schedule()))
        options.update({GATE_KEY: 1.0, SAMPLING_KEY: Sampling()})  # what a sampler's cond batch puts there
        return options, {"deig": groundings(device)}
    if kind == "floor":
        objs = torch.randn(2, N_INST * S_TOK, 768, device=device, dtype=dtype)
        return {"patches": {"middle_patch": [FloorPatch(deig, objs)]}}, {}
    if kind == "gligen":
        return {"patches": {"middle_patch": [gligen_patch(latent_shape, device, dtype)]}}, {}
    return {}, {}


def step_case(device, dtype, size=512):
    base = sd15_unet_patcher(device, dtype)
    lat = size // 8
    x = torch.randn(2, 4, lat, lat, device=device, dtype=dtype)
    t = torch.full((2,), 500.0, device=device)
    ctx = torch.randn(2, 77, 768, device=device, dtype=dtype)
    unet = base.model.diffusion_model

    def step_fn(options, kwargs):
        return lambda: unet(x, t, context=ctx, transformer_options=dict(options), **kwargs)
    return base, x, t, step_fn


def measure_step_memory(kind, device, dtype, size=512):
    """Extra peak memory (and time) of the first UNet call of one kind, alone in its process."""
    base, x, _, step_fn = step_case(device, dtype, size)
    out = {}
    deig = None
    if kind in ("deig", "floor"):
        deig = deig_model(device, dtype)
    step = step_fn(*step_inputs(kind, base, deig, x.shape, device, dtype))
    with torch.no_grad(), Peak(device) as peak:
        start = time.perf_counter()
        step()
        out["time"] = time.perf_counter() - start
    out["mem"] = peak.extra
    return out


STEP_KINDS = ("plain", "floor", "gligen", "deig")


def measure_step_times(device, dtype, repeat):
    """Median time of each step kind on one UNet, in interleaved rounds after one warm-up round; the
    order rotates from round to round, so that drift of the machine and what the previous step left
    in the allocator hit every kind alike. Plus the IDE and position net alone (what StepState
    computes once per call)."""
    from comfyui_deig.deig_core.grounding import Regions, StepState

    base, x, t, step_fn = step_case(device, dtype)
    deig = deig_model(device, dtype)
    steps = {kind: step_fn(*step_inputs(kind, base, deig, x.shape, device, dtype)) for kind in STEP_KINDS}
    times = {kind: [] for kind in STEP_KINDS}
    with torch.no_grad():
        for rnd in range(repeat + 1):
            order = STEP_KINDS[rnd % len(STEP_KINDS):] + STEP_KINDS[:rnd % len(STEP_KINDS)]
            for kind in order:
                took = timed(steps[kind], device, 1, warmup=False)
                if rnd:
                    times[kind].append(took)
        g = groundings(device)
        regions = Regions(g, tuple(x.shape[-2:]), device)
        ide = timed(lambda: StepState(deig, g, t, regions, 1.0, device, dtype), device, repeat)
    return {**{kind: statistics.median(v) for kind, v in times.items()}, "ide": ide}


def fuser_grids(latent_hw) -> list[tuple[int, int]]:
    """The token grid of each of SD1.5's 16 fusers at this latent size, in call order."""
    from comfyui_deig.deig_core.unet_layout import SD15_UNET, unet_layout

    level = {320: 0, 640: 1, 1280: 2}
    h, w = latent_hw
    grids = []
    for block, _, channels in unet_layout(SD15_UNET).blocks:
        lv = 3 if block[0] == "middle" else level[channels]
        grids.append((-(-h // 2 ** lv), -(-w // 2 ** lv)))
    return grids


def measure_regions(device, dtype, repeat, size=512):
    """Instance regions of one sampling (cond with 30 instances + null uncond, ``size`` px): the time to
    build them at every fuser grid, and what each later UNet call spends on them (the 16 fusers' lookups)."""
    from comfyui_deig.nodes.patch import Sampling

    g = groundings(device)
    hw = (size // 8, size // 8)
    grids = fuser_grids(hw)

    def build():
        sampling = Sampling()
        regions = sampling.regions_for(g, hw, device)
        for grid in grids:
            regions.at(grid, S_TOK, dtype)
        return sampling

    sampling = build()

    def later_call():
        regions = sampling.regions_for(g, hw, device)
        for grid in grids:
            regions.at(grid, S_TOK, dtype)
    return {"build": timed(build, device, repeat), "per_call": timed(later_call, device, repeat)}


def measure_host_reads(device, dtype):
    """Host reads of tensor values per sampling step (3 steps minus 2) of the host's KSampler on the full
    SD1.5 UNet, 64x64, CFG 7.5: plain SD1.5 (random context) and DEIG (two instances + null uncond)."""
    import comfy.model_management
    import comfy.model_patcher
    import comfy.sample

    from comfyui_deig.nodes.nodes_encode import conditioning
    from comfyui_deig.nodes.patch import Schedule, apply_deig
    from devkit.host_reads import HostReads

    base = sd15_unet_patcher(device, dtype)
    deig = comfy.model_patcher.ModelPatcher(deig_model(device, dtype), device, device)
    cond, uncond = groundings(device, n=2, pair=False)
    ctx = [[torch.randn(1, 77, 768, generator=torch.Generator().manual_seed(2)), {}]]
    runs = {"plain": (base, ctx, ctx),
            "deig": (apply_deig(base, deig, Schedule()), conditioning(cond), conditioning(uncond))}
    out = {}
    for name, (model, positive, negative) in runs.items():
        counts = []
        for steps in (2, 3):
            latent = torch.zeros(1, 4, 8, 8)
            noise = comfy.sample.prepare_noise(latent, 0)
            with torch.no_grad(), HostReads() as reads:
                comfy.sample.sample(model, noise, steps, 7.5, "euler", "normal", positive, negative, latent,
                                    disable_pbar=True, seed=0)
            counts.append(reads.total)
        out[name] = counts[1] - counts[0]
    return out


def measure_t5(device, repeat):
    from transformers import T5Config, T5EncoderModel

    from comfyui_deig.deig_core.text_encoder import T5TextEncoder, load_tokenizer
    from comfyui_deig.nodes.nodes_loaders import HOST_TOKENIZER

    torch.manual_seed(0)
    cfg = T5Config(d_model=768, d_ff=2048, num_layers=12, num_heads=12, d_kv=64, feed_forward_proj="gated-gelu")
    enc = T5TextEncoder(T5EncoderModel(cfg).to(device).eval(), load_tokenizer(HOST_TOKENIZER))
    texts = ["a photo of a busy street"] + [f"instance {i}: a person in a red coat and blue jeans" for i in range(N_INST)]
    t0 = time.perf_counter()
    enc.encode(texts)
    first = time.perf_counter() - t0
    second = timed(lambda: enc.encode(texts), device, repeat)
    return {"first": first, "second": second}


MEASURES = {"fuser_fast": lambda a: measure_fuser("fast", *a), "fuser_dense": lambda a: measure_fuser("dense", *a),
            "mem_plain": lambda a: measure_step_memory("plain", a[0], a[1]),
            "mem_deig": lambda a: measure_step_memory("deig", a[0], a[1]),
            "step_times": lambda a: measure_step_times(*a),
            "step_deig_1024": lambda a: measure_step_memory("deig", a[0], a[1], size=1024),
            "t5": lambda a: measure_t5(a[0], a[2]),
            "regions": lambda a: measure_regions(*a),
            "host_reads": lambda a: measure_host_reads(a[0], a[1])}


def child(name, args) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--device", args.device, "--dtype", args.dtype,
           "--repeat", str(args.repeat)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"bench child {name} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "fp16", "bf16"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child")
    ap.add_argument("--skip-1024", action="store_true")
    ap.add_argument("--only", nargs="+", choices=sorted(MEASURES), help="run only these measures, print their raw figures")
    args = ap.parse_args(argv)
    import_pack()
    device = torch.device(args.device)
    from comfyui_deig.deig_core.checkpoint import FLOAT_DTYPES

    dtype = FLOAT_DTYPES[args.dtype]
    if args.child:
        print(json.dumps(MEASURES[args.child]((device, dtype, args.repeat))))
        return 0

    if args.only:
        for name in args.only:
            print(f"bench {name}={json.dumps(child(name, args))}")
        return 0
    r = {name: child(name, args) for name in MEASURES if not (args.skip_1024 and name.endswith("1024"))}
    mb = 1024 * 1024
    st = r["step_times"]
    figures = {
        "device": args.device, "dtype": args.dtype, "threads": torch.get_num_threads(),
        "fuser_vs_dense": r["fuser_fast"]["time"] / r["fuser_dense"]["time"],
        "fuser_mem_vs_dense": r["fuser_fast"]["mem"] / r["fuser_dense"]["mem"],
        "step_vs_floor": st["deig"] / st["floor"],
        "step_vs_gligen": st["deig"] / st["gligen"],
        "step_vs_plain": st["deig"] / st["plain"],
        # both peaks are over a resident base that holds the weights already
        "act_mem_mb": (r["mem_deig"]["mem"] - r["mem_plain"]["mem"]) / mb,
        "ide_share": st["ide"] / st["deig"],
        "t5_cached": r["t5"]["second"] / r["t5"]["first"],
        "fuser_fast_s": r["fuser_fast"]["time"], "fuser_dense_s": r["fuser_dense"]["time"],
        "fuser_fast_mem_mb": r["fuser_fast"]["mem"] / mb, "fuser_dense_mem_mb": r["fuser_dense"]["mem"] / mb,
        **{f"step_{k}_s": st[k] for k in STEP_KINDS},
        "t5_first_s": r["t5"]["first"], "t5_cached_s": r["t5"]["second"],
        "regions_build_ms": 1000 * r["regions"]["build"], "regions_per_call_ms": 1000 * r["regions"]["per_call"],
        "host_reads_per_step_plain": r["host_reads"]["plain"], "host_reads_per_step_deig": r["host_reads"]["deig"],
    }
    if "step_deig_1024" in r:
        hw = (1024 // 8) ** 2
        figures["step_deig_1024_s"] = r["step_deig_1024"]["time"]
        figures["step_deig_1024_mem_mb"] = r["step_deig_1024"]["mem"] / mb
        figures["dense_mask_1024_mb"] = 2 * 8 * (hw + N_INST * S_TOK) ** 2 / mb  # bool mask, batch 2 x 8 heads
    for k, v in figures.items():
        print(f"bench {k}={v:.4g}" if isinstance(v, float) else f"bench {k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
