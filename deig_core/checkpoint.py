"""Reading weight files safely.

* ``.safetensors``: read with safetensors (no code can run); header and size are checked first so a
  truncated or corrupt file gives a clear error.
* ``.pth``/``.pt``/``.ckpt`` (pickles, like the released ``model.pth``): read with PyTorch's
  restricted unpickler (``torch.load(weights_only=True)``), which only rebuilds tensors and plain
  containers. A pickle that asks for anything else (a function to call, a class to build) is refused
  with ``UnsafeCheckpointError`` before anything from it runs.
"""
from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile

import torch
from safetensors.torch import load_file

from .model import CheckpointError

PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")
FLOAT_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class UnsafeCheckpointError(CheckpointError):
    """A pickled checkpoint that needs more than tensors and containers to load; it was not loaded."""


def _check_safetensors_header(path: str) -> None:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: not a safetensors file (only {size} bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100 * 1024 * 1024:
            raise CheckpointError(f"{path}: corrupt or truncated safetensors file (header length {n}, file {size} bytes)")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CheckpointError(f"{path}: corrupt safetensors header") from None
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + n + end > size:
        raise CheckpointError(f"{path}: truncated safetensors file: needs {8 + n + end} bytes, has {size}; "
                              "download it again")


def read_safetensors_metadata(path: str) -> dict:
    _check_safetensors_header(path)
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)).get("__metadata__", {}) or {}


def load_pickle_weights(path: str) -> dict:
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            if f.read(1) != b"\x80":
                raise CheckpointError(f"{path}: not a PyTorch checkpoint (neither a zip archive nor a pickle)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as e:
        raise UnsafeCheckpointError(
            f"{path}: refused to load: the pickle asks for code or objects beyond tensors ({str(e).splitlines()[0]}). "
            "Only load weights from sources you trust; convert trusted files with `python -m deig_core.convert`.") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as e:
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({str(e).splitlines()[0]})") from None


def load_weights(path: str) -> dict[str, torch.Tensor]:
    """A flat key -> tensor dict from a .safetensors file or an (official) pickled checkpoint.

    For an official ``model.pth`` the ``model`` entry is returned (``autoencoder``/``diffusion`` are
    not DEIG parts).
    """
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: file not found")
    if path.lower().endswith(".safetensors"):
        _check_safetensors_header(path)
        try:
            return load_file(path)
        except Exception as e:  # safetensors raises its own error types
            raise CheckpointError(f"{path}: unreadable safetensors file ({e})") from None
    if not path.lower().endswith(PICKLE_SUFFIXES):
        raise CheckpointError(f"{path}: unknown weight format; use .safetensors or an official .pth")
    obj = load_pickle_weights(path)
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items()):
        raise CheckpointError(f"{path}: expected a state dict (or a dict with 'model'), got {type(obj).__name__}")
    return obj
