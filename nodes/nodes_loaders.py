"""Loader nodes: the DEIG weights (models/deig) and the Flan-T5-XL encoder (models/text_encoders)."""
from __future__ import annotations

import logging
import os

import torch
from comfy_api.latest import io

import comfy.model_management as mm
import comfy.model_patcher
import comfy.ops
import comfy.utils
import folder_paths

from ..deig_core.checkpoint import FLOAT_DTYPES, WEIGHT_SUFFIXES, CheckpointError, load_weights
from ..deig_core.model import build_from_official
from ..deig_core.text_encoder import TextEncoderError, is_t5_encoder_file, load_t5_encoder
from .types import DEIGModelSocket, T5EncoderSocket

log = logging.getLogger(__name__)

DEIG_FOLDER = "deig"
T5_FOLDER = "text_encoders"
DTYPES = {"auto": None, **FLOAT_DTYPES}
HOST_TOKENIZER = os.path.join(os.path.dirname(comfy.model_patcher.__file__), "text_encoders", "t5_tokenizer")

folder_paths.add_model_folder_path(DEIG_FOLDER, os.path.join(folder_paths.models_dir, DEIG_FOLDER))


def _resolve_dtype(choice: str, device) -> torch.dtype:
    dtype = DTYPES[choice]
    if dtype is None:
        dtype = torch.float16 if mm.should_use_fp16(device) else torch.float32
    return dtype


def deig_patcher_from_state_dict(state_dict, dtype=torch.float32, ide_heads=8, fuser_heads=8, source="checkpoint"):
    """Validate and build the DEIG modules; wrap them in a ModelPatcher for the host's model management."""
    # manual_cast layers follow the dtype/device of their input (UNet precision, lowvram offload)
    model = build_from_official(state_dict, ops=comfy.ops.manual_cast, ide_heads=ide_heads, fuser_heads=fuser_heads,
                                device="cpu", dtype=dtype, source=source)
    return comfy.model_patcher.ModelPatcher(model, load_device=mm.get_torch_device(),
                                            offload_device=mm.unet_offload_device())


def _missing_model_message(kind: str, folder: str, name: str, hint: str) -> str:
    where = ", ".join(folder_paths.get_folder_paths(folder))
    return f"{kind} '{name}' not found. Searched: {where}. {hint}"


def _missing_deig_file(name: str) -> str | None:
    """The loader's words for a DEIG weights file ``name`` that is not on disk, or None when it is."""
    if folder_paths.get_full_path(DEIG_FOLDER, name) is not None:
        return None
    return _missing_model_message("DEIG Model Loader: input 'deig_name':", DEIG_FOLDER, name,
                                  "Put deig.safetensors (converted) or the official model.pth there; see the README.")


def deig_files() -> list[str]:
    return [f for f in folder_paths.get_filename_list(DEIG_FOLDER) if f.lower().endswith(WEIGHT_SUFFIXES)]


class DEIGModelLoader(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_ModelLoader",
            display_name="DEIG Model Loader",
            category="DEIG",
            description="Loads the DEIG weights (IDE, position net, 16 fusers) from models/deig.",
            inputs=[
                io.Combo.Input("deig_name", options=deig_files(),
                               tooltip="A converted .safetensors (python -m deig_core.convert) or the official "
                                       "model.pth in ComfyUI/models/deig"),
                io.Combo.Input("dtype", options=list(DTYPES), default="auto",
                               tooltip="Precision of the DEIG modules; auto = fp16 on GPUs that support it"),
            ],
            outputs=[DEIGModelSocket.Output(display_name="deig_model", tooltip="The DEIG weights, for DEIG Apply")],
        )

    @classmethod
    def validate_inputs(cls, deig_name):
        # instead of the host's bare "Value not in list": which file is missing and where it goes
        return _missing_deig_file(deig_name) or True

    @classmethod
    def execute(cls, deig_name, dtype) -> io.NodeOutput:
        path = folder_paths.get_full_path(DEIG_FOLDER, deig_name)
        if path is None:
            raise ValueError(_missing_deig_file(deig_name))
        try:
            sd = load_weights(path)
            patcher = deig_patcher_from_state_dict(sd, _resolve_dtype(dtype, mm.get_torch_device()), source=path)
        except CheckpointError as e:
            raise ValueError(f"DEIG Model Loader: input 'deig_name': {e}") from None
        log.info("DEIG: loaded %s (%d fusers)", path, len(patcher.model.fusers))
        return io.NodeOutput(patcher)


def t5_choices() -> list[str]:
    """HF folders (with config.json) and single encoder .safetensors files under models/text_encoders."""
    out = []
    for root in folder_paths.get_folder_paths(T5_FOLDER):
        if not os.path.isdir(root):
            continue
        for name in sorted(os.listdir(root)):
            full = os.path.join(root, name)
            if os.path.isfile(os.path.join(full, "config.json")):
                out.append(name)
    folders = set(out)  # a file inside a listed folder is loaded through the folder (it has the tokenizer)
    out += [f for f in folder_paths.get_filename_list(T5_FOLDER)
            if f.endswith(".safetensors") and f.replace(os.sep, "/").split("/")[0] not in folders
            and is_t5_encoder_file(folder_paths.get_full_path(T5_FOLDER, f))]
    return sorted(dict.fromkeys(out))


def _missing_t5(name: str) -> str | None:
    """The loader's words for a T5 encoder ``name`` that is not on disk, or None when it is."""
    if t5_path(name) is not None:
        return None
    return _missing_model_message(
        "DEIG T5 Encoder Loader: input 't5_name':", T5_FOLDER, name,
        "Put the Flan-T5-XL encoder folder there (e.g. models/text_encoders/flan-t5-xl/); see the README.")


def t5_path(name: str) -> str | None:
    """Full path of the T5 folder or file ``name`` in the text-encoder folders, or None."""
    for root in folder_paths.get_folder_paths(T5_FOLDER):
        full = os.path.join(root, name)
        if os.path.isdir(full) or os.path.isfile(full):
            return full
    return None


class _Holder(torch.nn.Module):
    """Plain module around the transformers model: ModelPatcher sets attributes (``device``) that a
    ``PreTrainedModel`` exposes as read-only properties."""

    def __init__(self, model):
        super().__init__()
        self.transformer = model


class EncoderPatcher(comfy.model_patcher.ModelPatcher):
    """ModelPatcher for the T5 encoder, holding the tokenizer and the per-text cache beside it."""

    def __init__(self, model, *args, encoder=None, **kwargs):
        # the host's clone() calls the class with (model, load_device, offload_device, size, ...)
        super().__init__(model, *args, **kwargs)
        self.encoder = encoder

    def clone(self):
        n = super().clone()
        n.encoder = self.encoder
        return n

    def encode(self, texts: list[str]) -> torch.Tensor:
        if self.encoder.missing(texts):
            mm.load_models_gpu([self])
        return self.encoder.encode(texts)


class T5EncoderLoader(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_T5Loader",
            display_name="DEIG T5 Encoder Loader",
            category="DEIG",
            description="Loads the Flan-T5-XL encoder DEIG uses (max_length 128, padded).",
            inputs=[
                io.Combo.Input("t5_name", options=t5_choices(),
                               tooltip="A Hugging Face T5 encoder folder in ComfyUI/models/text_encoders (config.json, "
                                       "weights, tokenizer files), or a single T5 encoder .safetensors"),
                io.Combo.Input("dtype", options=list(DTYPES), default="auto",
                               tooltip="Precision of the encoder; auto = fp16 on GPUs that support it, else fp32"),
            ],
            outputs=[T5EncoderSocket.Output(display_name="t5", tooltip="The T5 encoder, for DEIG Encode and DEIG Encode Negative")],
        )

    @classmethod
    def validate_inputs(cls, t5_name):
        return _missing_t5(t5_name) or True

    @classmethod
    def execute(cls, t5_name, dtype) -> io.NodeOutput:
        path = t5_path(t5_name)
        if path is None:
            raise ValueError(_missing_t5(t5_name))
        load_device, offload = mm.text_encoder_device(), mm.text_encoder_offload_device()
        bar = comfy.utils.ProgressBar(2)
        try:
            tokenizer_folder = None if os.path.isdir(path) else HOST_TOKENIZER
            encoder = load_t5_encoder(path, tokenizer_folder, dtype=_resolve_dtype(dtype, load_device), device=offload)
        except (TextEncoderError, OSError, ValueError) as e:
            raise ValueError(f"DEIG T5 Encoder Loader: input 't5_name': {e}") from None
        bar.update(1)
        patcher = EncoderPatcher(_Holder(encoder.model), load_device=load_device, offload_device=offload, encoder=encoder)
        bar.update(1)
        return io.NodeOutput(patcher)


NODES = [DEIGModelLoader, T5EncoderLoader]
