"""Reading weight files safely.

* ``.safetensors``: read with safetensors (no code can run); opened first so that a truncated or
  corrupt file gives an error naming it.
* ``.pth``/``.pt``/``.ckpt`` (pickles, like the released ``model.pth``): read with PyTorch's
  restricted unpickler (``torch.load(weights_only=True)``), which only rebuilds tensors and plain
  containers. A training script saves more beside the weights (the official trainer follows GLIGEN's:
  optimizer and scheduler states, the iteration count, the run's OmegaConf config, argparse
  arguments, numpy scalars). Each class on ``INERT_GLOBALS`` is read as an ``InertObject`` that only
  records what the pickle gave it: nothing of the named class is imported or called, so the pack needs
  neither omegaconf nor anything else the trainer used. A pickle that names anything else (a function
  that could run code, an unknown module) is refused with ``UnsafeCheckpointError`` naming it, before
  anything from it runs.
"""
from __future__ import annotations

import _compat_pickle
import contextlib
import os
import pickle
import re
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


# Classes a PyTorch training script's checkpoint carries beside its tensors (GLIGEN-style trainers:
# ``config_dict`` is an OmegaConf config, ``args`` an argparse Namespace, numbers are numpy scalars,
# paths are pathlib paths), and the builtin types OmegaConf's metadata names (``object_type=dict``).
# Each is read as an InertObject; nothing here is ever imported or called. Never add a function.
INERT_GLOBALS = frozenset({
    "argparse.Namespace",
    "builtins.bool", "builtins.bytes", "builtins.dict", "builtins.float", "builtins.frozenset", "builtins.int",
    "builtins.list", "builtins.NoneType", "builtins.object", "builtins.str", "builtins.tuple",
    "collections.defaultdict", "collections.deque",
    "datetime.date", "datetime.datetime", "datetime.time", "datetime.timedelta", "datetime.timezone",
    "typing.Any",
    *(f"{m}.{c}" for m in ("pathlib", "pathlib._local")
      for c in ("Path", "PosixPath", "WindowsPath", "PurePath", "PurePosixPath", "PureWindowsPath")),
    *(f"{m}.{c}" for m in ("numpy.core.multiarray", "numpy._core.multiarray") for c in ("scalar", "_reconstruct")),
    "numpy.ndarray", "numpy.dtype",
    *(f"numpy.dtypes.{k}DType" for k in ("Bool", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32",
                                         "UInt64", "Float16", "Float32", "Float64", "Str", "Bytes", "Object")),
    *(f"numpy.{t}" for t in ("bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                             "float16", "float32", "float64", "str_", "bytes_")),
    "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig",
    "omegaconf.base.ContainerMetadata", "omegaconf.base.Metadata", "omegaconf.base.UnionNode",
    *(f"omegaconf.nodes.{c}" for c in ("AnyNode", "StringNode", "IntegerNode", "FloatNode", "BooleanNode",
                                       "EnumNode", "PathNode", "BytesNode", "InterpolationResultNode")),
    "omegaconf.basecontainer.BaseContainer",
    "pytorch_lightning.utilities.parsing.AttributeDict", "lightning_fabric.utilities.data.AttributeDict",
    "lightning.fabric.utilities.data.AttributeDict",
})


class InertObject:
    """A training-time object read from a pickle as data: ``pickled_as`` names its class, ``args`` and
    ``state`` hold what the pickle passed to it. Building one runs nothing but this class's own code."""

    pickled_as = ""

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.args, self.kwargs, self.state = args, kwargs, None
        return self

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state

    def __repr__(self):
        return f"<inert {self.pickled_as}>"


_INERT_STAND_INS = [(type(name.rsplit(".", 1)[1], (InertObject,), {"pickled_as": name}), name)
                    for name in sorted(INERT_GLOBALS)]


# Renaming allowlist entries ((stand-in, "module.Name")) and the static scan need PyTorch 2.6; older ones read
# tensors and containers only, and refuse a release that carries training state.
_READS_TRAINING_STATE = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 6)


@contextlib.contextmanager
def _only_inert_globals():
    """PyTorch's allowlist beyond its defaults is the stand-ins alone while a file loads. Other packs' entries
    (ComfyUI allowlists the real ``numpy.dtype`` and numpy scalars) would otherwise build real objects, and
    one name with two entries would be a coin toss. The previous list is restored afterwards."""
    if not _READS_TRAINING_STATE:
        yield
        return
    before = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(_INERT_STAND_INS)
    try:
        yield
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)


def _python3_name(name: str) -> str:
    """The name Python 3 would import for a global a protocol-2 pickle spells the Python 2 way
    (``commands.call`` is ``subprocess.call``)."""
    module, _, attr = name.rpartition(".")
    if (module, attr) in _compat_pickle.NAME_MAPPING:
        return ".".join(_compat_pickle.NAME_MAPPING[(module, attr)])
    return f"{_compat_pickle.IMPORT_MAPPING.get(module, module)}.{attr}"


def _refusal(path: str, what: str) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(
        f"{path}: refused to load: the pickle names {what}, which could run code; nothing from the file was run. "
        "DEIG reads tensors and the training-time data trainers save beside them (OmegaConf configs, argparse "
        "arguments, numpy scalars, optimizer states), so the official model.pth loads as it is: if this file "
        "should be that release, download it again (`hf download dushy5/DEIG model.pth --local-dir deig-release`); "
        "otherwise use DEIG weights only from a source you trust."
        + ("" if _READS_TRAINING_STATE else f" (PyTorch {torch.__version__} reads tensors only: with PyTorch 2.6 or "
           "newer the training-time data beside them is read too)"))


def check_safetensors(path: str) -> None:
    """Raise CheckpointError naming the file when its header is corrupt or its data is cut short."""
    try:
        with safe_open(path, "pt"):
            pass
    except SafetensorError as e:
        raise CheckpointError(f"{path}: corrupt or truncated safetensors file ({e}); download or convert it "
                              "again") from None


def load_pickle_weights(path: str):
    is_zip = zipfile.is_zipfile(path)
    if not is_zip:
        with open(path, "rb") as f:
            if f.read(1) != b"\x80":
                raise CheckpointError(f"{path}: not a PyTorch checkpoint (neither a zip archive nor a pickle)")
    try:
        if is_zip and _READS_TRAINING_STATE:  # the classes the pickle names, read without unpickling
            refused = sorted({_python3_name(n) for n in torch.serialization.get_unsafe_globals_in_checkpoint(path)}
                             - INERT_GLOBALS)
            if refused:
                raise _refusal(path, ", ".join(refused))
        with _only_inert_globals():
            return torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as e:  # a legacy pickle's refused global, or an opcode that builds objects
        found = re.search(r"GLOBAL (\S+)", str(e))
        raise _refusal(path, found.group(1) if found else f"more than tensors ({str(e).splitlines()[0]})") from None
    except CheckpointError:
        raise
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
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
