"""Deterministic synthetic models in real formats, cached under ``.cache/models/`` (see ``paths.py``).

* :func:`sd15_checkpoint` - a full-size SD1.5 ``.safetensors`` checkpoint (real key names:
  ``model.diffusion_model.*``, ``first_stage_model.*``, ``cond_stage_model.transformer.text_model.*``),
  built from the host's own classes on the meta device and filled with seeded random fp16 values.
  CheckpointLoaderSimple loads it and samples with it; ``in_channels=9`` gives an SD1.5 inpainting
  checkpoint (9-channel UNet input).
* :func:`sd15_controlnet` - a full-size SD1.5 ControlNet in the original (``control_model.*``) format,
  from the host's ``comfy.cldm.cldm.ControlNet`` on the meta device; ``comfy.controlnet.load_controlnet``
  loads it.
* :func:`gligen_textbox` - a full-size SD1.4/1.5 GLIGEN textbox model with the key names of
  ``gligen_sd14_textbox_pruned.safetensors`` (16 ``...transformer_blocks.0.fuser.*`` gated self-attention
  blocks and ``position_net.*``), shapes from the host's ``comfy.gligen`` classes on the meta device;
  the stock GLIGENLoader loads it.
* :func:`t5_encoder_dir` - a tiny Hugging Face T5 encoder folder with ComfyUI's real T5 tokenizer files.
* :func:`populate_models_tree` - a ComfyUI models tree (checkpoints/, text_encoders/, deig/) of links.
* :func:`synthetic_deig_config` / :func:`synthetic_deig_state_dict` - small DEIG weights in the official
  key layout (full-size fusers that fit an SD1.5 UNet, a shallow IDE whose output width is the UNet's
  context width, narrow object tokens).

Values: :mod:`devkit.seeded_weights` (each tensor seeded from (seed, key name), so a tensor does not
depend on which other keys exist).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from . import paths
from .cache import cached_build
from .comfy_env import ensure_comfy
from comfyui_deig.deig_core.unet_layout import SD15_UNET, unet_layout

from .sd15_unet import host_unet_config
from .seeded_weights import seeded_state_dict

BUILDER_VERSION = 2  # bump when what the builders write changes: cached files are rebuilt

SD_VAE_DDCONFIG = {"double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128,
                   "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0}
T5_TINY = dict(d_model=64, d_ff=128, num_layers=2, num_heads=2, d_kv=32, vocab_size=32128,
               feed_forward_proj="relu", relative_attention_num_buckets=32, relative_attention_max_distance=128,
               dropout_rate=0.0, layer_norm_epsilon=1e-6, is_encoder_decoder=False, use_cache=False)
T5_TOKENIZER_FILES = ("special_tokens_map.json", "tokenizer.json", "tokenizer_config.json")


# ---------------------------------------------------------------------------------------------- SD1.5
def _sd15_model_config(dtype, in_channels: int = 4):
    """The host's SD15 model config for the full-size SD1.5 UNet (``deig_core.unet_layout.SD15_UNET``)."""
    ensure_comfy()
    import comfy.supported_models

    mc = comfy.supported_models.SD15(host_unet_config(dict(SD15_UNET, in_channels=in_channels), dtype))
    mc.set_inference_dtype(dtype, None)
    return mc


def sd15_checkpoint_shapes(in_channels: int = 4) -> dict:
    """Key -> shape of an SD1.5 checkpoint, from the host's classes instantiated on the meta device."""
    ensure_comfy()
    import torch
    import comfy.ldm.models.autoencoder
    import comfy.sd1_clip

    mc = _sd15_model_config(torch.float16, in_channels)
    with torch.device("meta"):
        model = mc.get_model({})
        clip = comfy.sd1_clip.SD1ClipModel(device="meta", dtype=torch.float16)
        vae = comfy.ldm.models.autoencoder.AutoencoderKL(ddconfig=SD_VAE_DDCONFIG, embed_dim=4)
    sd = model.state_dict_for_saving(clip.state_dict(), vae.state_dict())
    return {k: tuple(v.shape) for k, v in sd.items()}


def build_sd15_checkpoint(path: Path, seed: int = 0, in_channels: int = 4) -> Path:
    import torch
    from safetensors.torch import save_file

    sd = seeded_state_dict(sd15_checkpoint_shapes(in_channels), seed, torch.float16)
    save_file(sd, str(path), metadata={"format": "pt", "deig_synthetic": f"sd15 seed={seed} v{BUILDER_VERSION}"})
    return path


def sd15_checkpoint(seed: int = 0, cache_dir: Path | None = None, in_channels: int = 4) -> Path:
    """Full-size synthetic SD1.5 checkpoint (fp16, ~2.1 GB), built once and cached; ``in_channels=9``
    gives the inpainting variant (latent + mask + masked-image latent)."""
    kind = "sd15" if in_channels == 4 else f"sd15_in{in_channels}"
    path = Path(cache_dir or paths.models_cache_dir()) / f"deig_synthetic_{kind}_s{seed}_v{BUILDER_VERSION}.safetensors"
    return cached_build(path, lambda out: build_sd15_checkpoint(out, seed, in_channels), "synthetic SD1.5 checkpoint")


def sd15_controlnet(seed: int = 0, cache_dir: Path | None = None) -> Path:
    """Full-size synthetic SD1.5 ControlNet (original ``control_model.*`` keys, fp16), built once and cached."""
    path = Path(cache_dir or paths.models_cache_dir()) / f"deig_synthetic_controlnet_sd15_s{seed}_v{BUILDER_VERSION}.safetensors"

    def build(out: Path) -> None:
        ensure_comfy()
        import torch
        import comfy.cldm.cldm
        from safetensors.torch import save_file

        cfg = {k: v for k, v in host_unet_config(SD15_UNET, torch.float16).items() if k != "out_channels"}
        with torch.device("meta"):
            net = comfy.cldm.cldm.ControlNet(hint_channels=3, **cfg)
        shapes = {f"control_model.{k}": tuple(v.shape) for k, v in net.state_dict().items()}
        save_file(seeded_state_dict(shapes, seed, torch.float16), str(out))

    return cached_build(path, build, "synthetic SD1.5 ControlNet")


# ---------------------------------------------------------------------------------------------- DEIG
def synthetic_deig_config(text_dim: int, unet: dict | None = None, width: int = 768, layers: int = 1,
                          num_latents: int = 4, heads: int = 8, object_dim: int = 64, fuser_heads: int = 8,
                          time_dim: int = 64):
    """A ``DEIGConfig`` whose fusers sit in the transformer blocks of ``unet`` (default SD1.5)."""
    from comfyui_deig.deig_core.ide import IDEConfig
    from comfyui_deig.deig_core.model import DEIGConfig, FuserSpec
    from comfyui_deig.deig_core.position_net import PositionNetConfig

    fusers = tuple(FuserSpec(block, index, ch) for block, index, ch in unet_layout(unet or SD15_UNET).blocks)
    ide = IDEConfig(time_channel=32, time_embed_dim=time_dim, width=width, layers=layers, heads=heads,
                    num_latents=num_latents, input_dim=text_dim)
    return DEIGConfig(ide=ide, position_net=PositionNetConfig(in_dim=width, out_dim=object_dim, hidden=64),
                      fusers=fusers, fuser_heads=fuser_heads)


def synthetic_deig_state_dict(cfg, seed: int = 0) -> dict:
    """Seeded weights for ``cfg`` under the official key names."""
    import torch
    from comfyui_deig.deig_core.model import DEIGModel

    with torch.device("meta"):
        shapes = {k: list(v.shape) for k, v in DEIGModel(cfg).official_state_dict().items()}
    return seeded_state_dict(shapes, seed)


# ---------------------------------------------------------------------------------------------- T5
def build_t5_encoder(folder: Path, seed: int = 0, **config) -> Path:
    """Save a tiny ``T5EncoderModel`` (safetensors) plus ComfyUI's T5 tokenizer files into ``folder``."""
    ensure_comfy()
    import torch
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    model = T5EncoderModel(T5Config(**dict(T5_TINY, **config))).eval()
    model.save_pretrained(str(folder), safe_serialization=True)
    tok_src = paths.host_dir() / "comfy" / "text_encoders" / "t5_tokenizer"
    for name in T5_TOKENIZER_FILES:
        shutil.copy2(tok_src / name, folder / name)
    return folder


def t5_encoder_dir(seed: int = 0, cache_dir: Path | None = None) -> Path:
    """Tiny T5 encoder folder (d_model 64, 2 layers, T5 vocabulary), built once and cached."""
    folder = Path(cache_dir or paths.models_cache_dir()) / f"deig_synthetic_t5_s{seed}_v{BUILDER_VERSION}"
    return cached_build(folder, lambda out: build_t5_encoder(out, seed), "synthetic T5 encoder")


# ---------------------------------------------------------------------------------------------- GLIGEN
# the SD1.5 UNet's transformer blocks (input 1, 2, 4, 5, 7, 8; middle; output 3..11) and their widths
GLIGEN_BLOCKS = ([(f"input_blocks.{b}.1", c) for b, c in ((1, 320), (2, 320), (4, 640), (5, 640), (7, 1280), (8, 1280))]
                 + [("middle_block.1", 1280)]
                 + [(f"output_blocks.{b}.1", 1280 if b < 6 else 640 if b < 9 else 320) for b in range(3, 12)])


def gligen_textbox_shapes() -> dict:
    """Key -> shape of an SD1.x GLIGEN textbox model (CLIP-L width 768), from the host's classes."""
    ensure_comfy()
    import torch
    import comfy.gligen

    shapes = {}
    with torch.device("meta"):
        for block, width in GLIGEN_BLOCKS:
            fuser = comfy.gligen.GatedSelfAttentionDense(width, 768, 8, width // 8)
            prefix = f"model.diffusion_model.{block}.transformer_blocks.0.fuser."
            shapes.update({prefix + k: tuple(v.shape) for k, v in fuser.state_dict().items()})
        net = comfy.gligen.PositionNet(768, 768)
        shapes.update({f"position_net.{k}": tuple(v.shape) for k, v in net.state_dict().items()})
    return shapes


def gligen_textbox(seed: int = 0, cache_dir: Path | None = None) -> Path:
    """Full-size synthetic GLIGEN textbox model (fp16, ~0.4 GB), built once and cached."""
    path = Path(cache_dir or paths.models_cache_dir()) / f"deig_synthetic_gligen_textbox_s{seed}_v{BUILDER_VERSION}.safetensors"

    def build(out: Path) -> None:
        import torch
        from safetensors.torch import save_file

        save_file(seeded_state_dict(gligen_textbox_shapes(), seed, torch.float16), str(out))

    return cached_build(path, build, "synthetic GLIGEN textbox model")


# ---------------------------------------------------------------------------------------------- tree
MODEL_FOLDERS = ("checkpoints", "text_encoders", "deig", "loras", "vae", "embeddings", "gligen")


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
