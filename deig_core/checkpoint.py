"""Reading weight files safely.

* ``.safetensors``: read with safetensors (no code can run); opened first so that a truncated or
  corrupt file gives an error naming it.
* ``.pth``/``.pt``/``.ckpt`` (pickles, like the released ``model.pth``): read with PyTorch's
  restricted unpickler (``torch.load(weights_only=True)``), which only rebuilds tensors and plain
  containers. A pickle that asks for anything else (a function to call, a class to build) is refused
  with ``UnsafeCheckpointError`` before anything from it runs.
"""
from __future__ import annotations

import os
import pickle
import zipfile

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")
WEIGHT_SUFFIXES = (".safetensors",) + PICKLE_SUFFIXES  # what load_weights reads
FLOAT_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class CheckpointError(ValueError):
    """A weight file that is not a usable DEIG checkpoint; the message names the file or key."""


class UnsafeCheckpointError(CheckpointError):
    """A pickled checkpoint that needs more than tensors and containers to load; it was not loaded."""


def check_safetensors(path: str) -> None:
    """Raise CheckpointError naming the file when its header is corrupt or its data is cut short."""
    try:
        with safe_open(path, "pt"):
            pass
    except SafetensorError as e:
        raise CheckpointError(f"{path}: corrupt or truncated safetensors file ({e}); download or convert it "
                              "again") from None


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
        check_safetensors(path)
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
