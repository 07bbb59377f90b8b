"""Deterministic synthetic models in real formats, cached under ``.cache/models/`` (see ``host.py``).

* :func:`sd15_checkpoint` - a full-size SD1.5 ``.safetensors`` checkpoint (real key names:
  ``model.diffusion_model.*``, ``first_stage_model.*``, ``cond_stage_model.transformer.text_model.*``),
  built from the host's own classes on the meta device and filled with seeded random fp16 values.
  CheckpointLoaderSimple loads it and samples with it.
* :func:`tiny_sd15_patcher` - an in-process SD15 ``ModelPatcher`` with a narrow UNet (ComfyUI's
  detection refuses those in checkpoints), for ``comfy.sample.sample`` in integration tests.
* :func:`t5_encoder_dir` - a tiny Hugging Face T5 encoder folder with ComfyUI's real T5 tokenizer files.
* :func:`populate_models_tree` - a ComfyUI models tree (checkpoints/, text_encoders/, deig/) of links.

Values: every tensor gets its own generator seeded from (seed, key name), so a tensor does not depend
on which other keys exist. 1-D ``weight`` (norm scales) = 1, biases = 0, others N(0, 1/fan_in).
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import zlib
from pathlib import Path

from . import host
from .comfy_env import ensure_comfy

log = logging.getLogger(__name__)

BUILDER_VERSION = 1  # bump when what the builders write changes: cached files are rebuilt

SD15_UNET_CONFIG = {  # comfy/model_detection.py's SD15 config, minus dtype
    "use_checkpoint": False, "image_size": 32, "out_channels": 4, "use_spatial_transformer": True, "legacy": False,
    "adm_in_channels": None, "in_channels": 4, "model_channels": 320, "num_res_blocks": [2, 2, 2, 2],
    "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0], "channel_mult": [1, 2, 4, 4], "transformer_depth_middle": 1,
    "use_linear_in_transformer": False, "context_dim": 768, "num_heads": 8,
    "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
    "use_temporal_attention": False, "use_temporal_resblock": False,
}
SD_VAE_DDCONFIG = {"double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128,
                   "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0}
T5_TINY = dict(d_model=64, d_ff=128, num_layers=2, num_heads=2, d_kv=32, vocab_size=32128,
               feed_forward_proj="relu", relative_attention_num_buckets=32, relative_attention_max_distance=128,
               dropout_rate=0.0, layer_norm_epsilon=1e-6, is_encoder_decoder=False, use_cache=False)
T5_TOKENIZER_FILES = ("special_tokens_map.json", "tokenizer.json", "tokenizer_config.json")


# ---------------------------------------------------------------------------------------------- values
def seeded_tensor(key: str, shape, seed: int = 0, dtype=None):
    import torch

    dtype = dtype or torch.float32
    shape = tuple(shape)
    if key.endswith("bias"):
        return torch.zeros(shape, dtype=dtype)
    if key.endswith("weight") and len(shape) == 1:
        return torch.ones(shape, dtype=dtype)
    gen = torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(key.encode())) & 0x7FFF_FFFF_FFFF)
    fan_in = 1
    for d in shape[1:]:
        fan_in *= d
    std = 1.0 / max(fan_in, 1) ** 0.5 if len(shape) > 1 else 0.02
    return (torch.randn(shape, generator=gen) * std).to(dtype)


def random_state_dict(shapes: dict, seed: int = 0, dtype=None) -> dict:
    """``{key: tensor}`` for ``{key: shape}``, each from :func:`seeded_tensor`."""
    return {k: seeded_tensor(k, s, seed, dtype) for k, s in shapes.items()}


# ---------------------------------------------------------------------------------------------- SD1.5
def sd15_unet_config(model_channels: int = 320, **overrides) -> dict:
    cfg = dict(SD15_UNET_CONFIG, model_channels=model_channels)
    cfg.update(overrides)
    return cfg


def _sd15_model_config(unet_config: dict, dtype):
    ensure_comfy()
    import comfy.supported_models

    mc = comfy.supported_models.SD15(dict(unet_config, dtype=dtype))
    mc.set_inference_dtype(dtype, None)
    return mc


def sd15_checkpoint_shapes(model_channels: int = 320) -> dict:
    """Key -> shape of an SD1.5 checkpoint, from the host's classes instantiated on the meta device."""
    ensure_comfy()
    import torch
    import comfy.ldm.models.autoencoder
    import comfy.sd1_clip

    mc = _sd15_model_config(sd15_unet_config(model_channels), torch.float16)
    with torch.device("meta"):
        model = mc.get_model({})
        clip = comfy.sd1_clip.SD1ClipModel(device="meta", dtype=torch.float16)
        vae = comfy.ldm.models.autoencoder.AutoencoderKL(ddconfig=SD_VAE_DDCONFIG, embed_dim=4)
    sd = model.state_dict_for_saving(clip.state_dict(), vae.state_dict())
    return {k: tuple(v.shape) for k, v in sd.items()}


def build_sd15_checkpoint(path: Path, seed: int = 0) -> Path:
    import torch
    from safetensors.torch import save_file

    sd = random_state_dict(sd15_checkpoint_shapes(), seed, torch.float16)
    tmp = path.with_name(path.name + ".partial")
    save_file(sd, str(tmp), metadata={"format": "pt", "deig_synthetic": f"sd15 seed={seed} v{BUILDER_VERSION}"})
    tmp.replace(path)
    return path


def sd15_checkpoint(seed: int = 0, cache_dir: Path | None = None) -> Path:
    """Full-size synthetic SD1.5 checkpoint (fp16, ~2.1 GB), built once and cached."""
    path = Path(cache_dir or host.models_cache_dir()) / f"deig_synthetic_sd15_s{seed}_v{BUILDER_VERSION}.safetensors"
    with _build_lock(path):
        if not path.is_file():
            log.info("building synthetic SD1.5 checkpoint %s", path)
            build_sd15_checkpoint(path, seed)
    return path


def tiny_sd15_patcher(model_channels: int = 32, seed: int = 0, dtype=None, **unet_overrides):
    """A ``comfy.model_patcher.ModelPatcher`` over an SD15 ``BaseModel`` with a narrow UNet, on CPU.

    ``unet_overrides`` go into the UNet config (e.g. ``context_dim=768``, ``transformer_depth=...``).
    Weights come from :func:`seeded_tensor`, so two calls with the same arguments give equal models.
    """
    ensure_comfy()
    import torch
    import comfy.model_patcher

    dtype = dtype or torch.float32
    mc = _sd15_model_config(sd15_unet_config(model_channels, **unet_overrides), dtype)
    model = mc.get_model({}, device=torch.device("cpu"))
    unet = model.diffusion_model
    shapes = {k: tuple(v.shape) for k, v in unet.state_dict().items()}
    unet.load_state_dict(random_state_dict(shapes, seed, dtype))
    model.eval()
    cpu = torch.device("cpu")
    return comfy.model_patcher.ModelPatcher(model, load_device=cpu, offload_device=cpu)


# ---------------------------------------------------------------------------------------------- T5
def build_t5_encoder(folder: Path, seed: int = 0, **config) -> Path:
    """Save a tiny ``T5EncoderModel`` (safetensors) plus ComfyUI's T5 tokenizer files into ``folder``."""
    ensure_comfy()
    import torch
    from transformers import T5Config, T5EncoderModel

    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    torch.manual_seed(seed)
    model = T5EncoderModel(T5Config(**dict(T5_TINY, **config))).eval()
    model.save_pretrained(str(tmp), safe_serialization=True)
    tok_src = host.host_dir() / "comfy" / "text_encoders" / "t5_tokenizer"
    for name in T5_TOKENIZER_FILES:
        shutil.copy2(tok_src / name, tmp / name)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder


def t5_encoder_dir(seed: int = 0, cache_dir: Path | None = None) -> Path:
    """Tiny T5 encoder folder (d_model 64, 2 layers, T5 vocabulary), built once and cached."""
    folder = Path(cache_dir or host.models_cache_dir()) / f"deig_synthetic_t5_s{seed}_v{BUILDER_VERSION}"
    with _build_lock(folder):
        if not (folder / "model.safetensors").is_file():
            log.info("building synthetic T5 encoder %s", folder)
            build_t5_encoder(folder, seed)
    return folder


# ---------------------------------------------------------------------------------------------- tree
MODEL_FOLDERS = ("checkpoints", "text_encoders", "deig", "loras", "vae", "embeddings")


def populate_models_tree(root: Path, with_checkpoint: bool = True, with_t5: bool = True) -> dict[str, Path]:
    """Create ``root/{checkpoints,text_encoders,deig,...}`` and link the cached synthetic models in.

    Returns ``{"root", "checkpoint", "t5"}`` paths (the last two only when built). DEIG weights are the
    core's business: put them in ``root / "deig"``.
    """
    root = Path(root)
    for name in MODEL_FOLDERS:
        (root / name).mkdir(parents=True, exist_ok=True)
    out = {"root": root}
    if with_checkpoint:
        out["checkpoint"] = _link(sd15_checkpoint(), root / "checkpoints" / "deig_synthetic_sd15.safetensors")
    if with_t5:
        out["t5"] = _link(t5_encoder_dir(), root / "text_encoders" / "deig_synthetic_t5")
    return out


def _link(src: Path, dst: Path) -> Path:
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    os.symlink(src, dst)
    return dst


@contextlib.contextmanager
def _build_lock(path: Path):
    """Serialise builders of one cached file across processes (tests may run side by side)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
