"""The DEIG modules as one container, and the official checkpoint's key layout.

An official DEIG state dict (``model.pth['model']``) holds the whole DEIGUNetModel: the SD1.5 UNet,
one fuser per transformer block, the IDE and the position net. ComfyUI supplies the UNet, so only the
DEIG parts are kept here; the UNet keys are recognised and set aside.

Fusers are addressed the way the host addresses transformer blocks: (``"input"``, 1) block index 0
is the official ``input_blocks.1.1.transformer_blocks.0.fuser``; ``("middle", 0)`` is
``middle_block.1``; ``("output", 3)`` is ``output_blocks.3.1``.

Follows the official ``ldm/modules/core/unet_model.py`` (``DEIGUNetModel``) and ``configs/config.yaml``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
from torch import nn

from .checkpoint import CheckpointError
from .fuser import GatedSelfAttentionFuser
from .ide import IDEConfig, InstanceDetailExtractor
from .position_net import PositionNet, PositionNetConfig

FUSER_KEY = re.compile(
    r"^(?:(?P<kind>input|output)_blocks\.(?P<id>\d+)\.1|middle_block\.1)\.transformer_blocks\.(?P<index>\d+)\.fuser\.(?P<rest>.+)$")
UNET_PREFIXES = ("input_blocks.", "middle_block.", "output_blocks.", "time_embed.", "label_emb.", "out.")


@dataclass(frozen=True)
class FuserSpec:
    block: tuple[str, int]
    index: int
    query_dim: int

    @property
    def name(self) -> str:
        return f"{self.block[0]}_{self.block[1]}_{self.index}"

    @property
    def official_block(self) -> str:
        """The transformer block this fuser sits in, as the official UNet names it."""
        kind, bid = self.block
        base = "middle_block.1" if kind == "middle" else f"{kind}_blocks.{bid}.1"
        return f"{base}.transformer_blocks.{self.index}"

    @property
    def official_prefix(self) -> str:
        return f"{self.official_block}.fuser."


@dataclass(frozen=True)
class DEIGConfig:
    ide: IDEConfig = IDEConfig()
    position_net: PositionNetConfig = PositionNetConfig()
    fusers: tuple[FuserSpec, ...] = field(default_factory=tuple)
    fuser_heads: int = 8


def fuser_spec_of(key: str, shape) -> FuserSpec | None:
    m = FUSER_KEY.match(key)
    if not m or m.group("rest") != "linear.weight":
        return None
    kind = m.group("kind") or "middle"
    bid = int(m.group("id")) if m.group("id") else 0
    return FuserSpec((kind, bid), int(m.group("index")), int(shape[0]))


def official_to_internal(key: str) -> str | None:
    """Official key -> this container's key (None for keys that are not DEIG parts)."""
    if key.startswith(("IDE.", "position_net.")):
        return key
    m = FUSER_KEY.match(key)
    if not m:
        return None
    kind = m.group("kind") or "middle"
    bid = m.group("id") or "0"
    return f"fusers.{kind}_{bid}_{m.group('index')}.{m.group('rest')}"


def internal_to_official(key: str, specs: dict[str, FuserSpec]) -> str:
    if key.startswith("fusers."):
        name, rest = key[len("fusers."):].split(".", 1)
        return specs[name].official_prefix + rest
    return key


def config_from_shapes(shapes: dict[str, tuple], ide_heads: int = 8, fuser_heads: int = 8) -> DEIGConfig:
    """Infer the module sizes from an official-layout key -> shape mapping (heads cannot be inferred)."""
    def need(key):
        if key not in shapes:
            raise CheckpointError(f"missing key '{key}': this is not a DEIG checkpoint (or it is truncated)")
        return tuple(shapes[key])

    lin1 = need("IDE.time_embedding.linear_1.weight")
    latents = need("IDE.connector.latents")
    layers = len({k.split(".")[3] for k in shapes if k.startswith("IDE.connector.perceiver_blocks.")})
    ide = IDEConfig(time_channel=lin1[1], time_embed_dim=lin1[0], width=latents[1], layers=layers,
                    heads=ide_heads, num_latents=latents[0], input_dim=need("IDE.connector.proj_in.weight")[1])
    pos = PositionNetConfig(in_dim=need("position_net.null_positive_feature")[0],
                            out_dim=need("position_net.linears.4.weight")[0],
                            fourier_freqs=need("position_net.null_position_feature")[0] // 8,
                            hidden=need("position_net.linears.0.weight")[0])
    fusers = tuple(sorted((s for k, v in shapes.items() if (s := fuser_spec_of(k, v))),
                          key=lambda s: ({"input": 0, "middle": 1, "output": 2}[s.block[0]], s.block[1], s.index)))
    if not fusers:
        raise CheckpointError("no fuser keys (*.transformer_blocks.N.fuser.*) found: this is not a DEIG checkpoint")
    return DEIGConfig(ide=ide, position_net=pos, fusers=fusers, fuser_heads=fuser_heads)


class DEIGModel(nn.Module):
    """IDE + position net + one fuser per UNet transformer block."""

    def __init__(self, cfg: DEIGConfig, ops=nn):
        super().__init__()
        self.cfg = cfg
        self.IDE = InstanceDetailExtractor(cfg.ide, ops)
        self.position_net = PositionNet(cfg.position_net, ops)
        self.fusers = nn.ModuleDict({
            s.name: GatedSelfAttentionFuser(s.query_dim, cfg.position_net.out_dim, cfg.fuser_heads, ops)
            for s in cfg.fusers})
        self._by_block = {(s.block, s.index): s.name for s in cfg.fusers}

    def fuser_for(self, block: tuple[str, int], index: int) -> GatedSelfAttentionFuser | None:
        name = self._by_block.get((tuple(block), int(index)))
        return None if name is None else self.fusers[name]

    @property
    def num_latents(self) -> int:
        return self.cfg.ide.num_latents

    def official_state_dict(self) -> dict[str, torch.Tensor]:
        specs = {s.name: s for s in self.cfg.fusers}
        return {internal_to_official(k, specs): v for k, v in self.state_dict().items()}


def split_official(state_dict: dict[str, torch.Tensor]):
    """-> (DEIG parts in official naming, UNet keys set aside, unexpected keys)."""
    deig, unet, unexpected = {}, [], []
    for k, v in state_dict.items():
        if official_to_internal(k) is not None:
            deig[k] = v
        elif k.startswith(UNET_PREFIXES):
            unet.append(k)
        else:
            unexpected.append(k)
    return deig, unet, unexpected


def build_from_official(state_dict: dict[str, torch.Tensor], ops=nn, ide_heads: int = 8, fuser_heads: int = 8,
                        device=None, dtype=None, source: str = "checkpoint") -> DEIGModel:
    """Build a DEIGModel from an official-layout state dict, checking every key and shape.

    Works on the meta device (``device="meta"``) without allocating memory.
    """
    deig, _unet, unexpected = split_official(state_dict)
    if unexpected:
        raise CheckpointError(f"{source}: {len(unexpected)} unexpected keys, e.g. {unexpected[:5]}")
    cfg = config_from_shapes({k: tuple(v.shape) for k, v in deig.items()}, ide_heads, fuser_heads)
    with torch.device("meta"):
        model = DEIGModel(cfg, ops)
    expected = model.state_dict()
    internal = {official_to_internal(k): v for k, v in deig.items()}
    missing = [internal_to_official(k, {s.name: s for s in cfg.fusers}) for k in expected if k not in internal]
    if missing:
        raise CheckpointError(f"{source}: {len(missing)} missing keys, e.g. {missing[:5]}")
    for k, ref in expected.items():
        if tuple(internal[k].shape) != tuple(ref.shape):
            name = internal_to_official(k, {s.name: s for s in cfg.fusers})
            raise CheckpointError(f"{source}: key '{name}' has shape {tuple(internal[k].shape)}, "
                                  f"expected {tuple(ref.shape)} for this configuration")
    if device is not None or dtype is not None:
        internal = {k: v.to(device=device, dtype=dtype if v.is_floating_point() else None) for k, v in internal.items()}
    model.load_state_dict(internal, assign=True)
    return model.eval().requires_grad_(False)
