"""Convert a released DEIG checkpoint into a DEIG-only .safetensors file.

    python -m deig_core.convert checkpoints/model.pth ComfyUI/models/deig/deig.safetensors [--dtype fp16]

Keeps the IDE, the position net and the 16 fusers (about 297M parameters) in the official key
names; the SD1.5 UNet inside the release is left out (ComfyUI loads your own SD1.5 checkpoint), as are
``autoencoder`` and ``diffusion``. The source is read through the safe path of ``checkpoint.py``; the
output is written to a temporary file and renamed only after it is complete, so a failure leaves no
output behind.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import tempfile

import torch
from safetensors.torch import save_file

from .checkpoint import CheckpointError, FLOAT_DTYPES, load_weights
from .model import build_from_official, split_official

FORMAT = "deig-comfyui"
FORMAT_VERSION = "1"
log = logging.getLogger("deig_core.convert")


def sha256_of(path: str, chunk: int = 1 << 24) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def deig_parts(state_dict: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """The DEIG tensors of an official state dict, validated (shapes, missing and unexpected keys)."""
    meta = {k: torch.empty(v.shape, dtype=v.dtype, device="meta") for k, v in state_dict.items()}
    build_from_official(meta, source=source)  # raises CheckpointError naming the key
    deig, unet, _ = split_official(state_dict)
    log.info("%s: %d DEIG tensors kept, %d UNet tensors set aside", source, len(deig), len(unet))
    return deig


def convert(src: str, dst: str, dtype: str = "fp32") -> dict:
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"--dtype must be one of {sorted(FLOAT_DTYPES)}, got {dtype!r}")
    deig = deig_parts(load_weights(src), src)
    tensors = {k: v.to(FLOAT_DTYPES[dtype]).contiguous() if v.is_floating_point() else v.contiguous()
               for k, v in deig.items()}
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "source_sha256": sha256_of(src),
                "source_name": os.path.basename(src), "dtype": dtype,
                "parameters": str(sum(v.numel() for v in tensors.values()))}
    out_dir = os.path.dirname(os.path.abspath(dst))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".deig-convert-", suffix=".safetensors", dir=out_dir)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return metadata


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deig_core.convert", description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="official model.pth (or a full .safetensors state dict)")
    ap.add_argument("dst", help="output .safetensors (e.g. ComfyUI/models/deig/deig.safetensors)")
    ap.add_argument("--dtype", default="fp32", choices=sorted(FLOAT_DTYPES), help="stored precision")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        meta = convert(args.src, args.dst, args.dtype)
    except (CheckpointError, ValueError, OSError) as e:
        log.error("conversion failed, nothing written: %s", e)
        return 1
    log.info("wrote %s (%s parameters, %s)", args.dst, meta["parameters"], meta["dtype"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
