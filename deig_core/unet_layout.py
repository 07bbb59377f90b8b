"""Where the transformer blocks of an LDM/SD1.5-style UNet are, from its config.

Gives the blocks as the host addresses them, ``(("input", 1), 0)`` etc., with their channel counts,
and the per-block depth lists that ComfyUI's ``UNetModel`` takes.
"""
from __future__ import annotations

from dataclasses import dataclass

# SD1.5's UNet in the LDM config form (the ``unet_config`` of the release's v1-inference.yaml).
SD15_UNET = {"in_channels": 4, "out_channels": 4, "model_channels": 320, "channel_mult": [1, 2, 4, 4],
             "num_res_blocks": 2, "attention_resolutions": [4, 2, 1], "transformer_depth": 1, "num_heads": 8,
             "context_dim": 768}


@dataclass(frozen=True)
class UNetLayout:
    depth_in: tuple[int, ...]       # transformer depth of each input res-block, in order
    depth_out: tuple[int, ...]      # the same for each output block, in order
    depth_middle: int
    blocks: tuple[tuple[tuple[str, int], int, int], ...]  # ((kind, block id), block index, channels)


def unet_layout(cfg: dict) -> UNetLayout:
    depth, res = int(cfg.get("transformer_depth", 1)), set(cfg["attention_resolutions"])
    mults, nrb, ch = list(cfg["channel_mult"]), int(cfg["num_res_blocks"]), int(cfg["model_channels"])
    ds, depth_in, depth_out, blocks = 1, [], [], []
    bid = 1  # input block 0 is the first convolution
    for level, mult in enumerate(mults):
        for _ in range(nrb):
            d = depth if ds in res else 0
            depth_in.append(d)
            blocks += [(("input", bid), i, mult * ch) for i in range(d)]
            bid += 1
        if level != len(mults) - 1:
            ds *= 2
            bid += 1  # downsample block
    blocks += [(("middle", 0), i, mults[-1] * ch) for i in range(depth)]
    bid = 0
    for level in reversed(range(len(mults))):
        for _ in range(nrb + 1):
            d = depth if ds in res else 0
            depth_out.append(d)
            blocks += [(("output", bid), i, mults[level] * ch) for i in range(d)]
            bid += 1
        if level:
            ds //= 2
    return UNetLayout(tuple(depth_in), tuple(depth_out), depth, tuple(blocks))
