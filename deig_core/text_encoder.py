"""Flan-T5 encoding as DEIG was trained: max_length 128, padded to max_length, truncated.

The IDE sees the whole padded sequence (no attention mask inside the IDE), so padding is part of the
input and must match the official code. Outputs are cached per text (an LRU of CPU tensors), so a
re-queued prompt does not run T5 again. The cache is bounded in bytes (least recently used first).

Follows the official ``ldm/modules/encoders/modules.py`` (``T5TextEmbedder``) as ``inference.py`` calls it.
"""
from __future__ import annotations

import logging
import os
from collections import OrderedDict

import torch

log = logging.getLogger(__name__)

MAX_LENGTH = 128
TOKENIZER_FILES = ("spiece.model", "tokenizer.json")


class TextEncoderError(ValueError):
    """A text encoder folder or file that cannot be used; the message names the path and what is missing."""


def check_tokenizer_folder(folder: str) -> None:
    if not any(os.path.isfile(os.path.join(folder, f)) for f in TOKENIZER_FILES):
        raise TextEncoderError(f"{folder}: no T5 tokenizer files (need one of {', '.join(TOKENIZER_FILES)}); "
                               "copy them from the Flan-T5-XL download (or ComfyUI's comfy/text_encoders/t5_tokenizer)")


def from_pretrained_dtype(dtype) -> dict:
    """The ``from_pretrained`` keyword for the weights' dtype: ``dtype`` from transformers 4.56 (which deprecates
    ``torch_dtype``), ``torch_dtype`` before it (ComfyUI 0.3.75 accepts transformers>=4.50.3, where ``dtype``
    would be taken for a config field)."""
    import transformers
    from packaging.version import Version

    return {"dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype": dtype}


def load_tokenizer(folder: str):
    from transformers import AutoTokenizer

    check_tokenizer_folder(folder)
    return AutoTokenizer.from_pretrained(folder)


def count_tokens(tokenizer, text: str) -> int:
    """Tokens of ``text`` as DEIG encodes it (with the end-of-sequence token), before truncation."""
    return len(tokenizer(text, add_special_tokens=True).input_ids)


class T5TextEncoder:
    """Wraps a transformers ``T5EncoderModel`` and its tokenizer; ``encode`` returns (N, 128, d_model)."""

    def __init__(self, model, tokenizer, max_length: int = MAX_LENGTH, cache_bytes: int = 128 << 20):
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.cache_bytes = cache_bytes  # Flan-T5-XL: 1 MiB per text, so 128 texts by default
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()

    @property
    def d_model(self) -> int:
        return int(self.model.config.d_model)

    def token_count(self, text: str) -> int:
        return count_tokens(self.tokenizer, text)

    @torch.no_grad()
    def _run(self, texts: list[str]) -> torch.Tensor:
        for t in texts:
            n = self.token_count(t)
            if n > self.max_length:
                log.warning("DEIG: text of %d tokens truncated to %d (as the official code does): %.60s...",
                            n, self.max_length, t)
        tok = self.tokenizer(texts, return_tensors="pt", add_special_tokens=True, max_length=self.max_length,
                             padding="max_length", truncation=True)
        device = next(self.model.parameters()).device
        out = self.model(tok.input_ids.to(device), attention_mask=tok.attention_mask.to(device)).last_hidden_state
        return out.float().cpu()

    def missing(self, texts: list[str]) -> list[str]:
        """The texts not in the cache yet (in order, without repeats)."""
        return list(dict.fromkeys(t for t in texts if t not in self._cache))

    def encode(self, texts: list[str]) -> torch.Tensor:
        missing = self.missing(texts)
        if missing:
            for text, feats in zip(missing, self._run(missing)):
                self._cache[text] = feats.clone()  # its own storage, so evicting it frees its bytes
        if not texts:
            return torch.zeros(0, self.max_length, self.d_model)
        out = torch.stack([self._cache[t] for t in texts])
        for t in texts:
            self._cache.move_to_end(t)
        per_text = out[0].numel() * out.element_size()
        while len(self._cache) > max(1, self.cache_bytes // per_text):
            self._cache.popitem(last=False)
        return out


T5_ENCODER_KEYS = ("encoder.block.0.layer.0.SelfAttention.q.weight",)  # present in every HF T5 encoder file


def is_t5_encoder_file(path: str) -> bool:
    """True for a .safetensors file that :func:`load_t5_encoder` can load (Hugging Face T5 encoder keys)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, "pt") as f:
            keys = set(f.keys())
    except (SafetensorError, OSError):
        return False
    return all(k in keys for k in T5_ENCODER_KEYS) and bool(keys & {"shared.weight", "encoder.embed_tokens.weight"})


def t5_config_from_state_dict(sd: dict):
    """A T5Config for an encoder-only state dict in Hugging Face key names."""
    from transformers import T5Config

    if "shared.weight" not in sd and "encoder.embed_tokens.weight" not in sd:
        raise TextEncoderError("not a T5 encoder state dict: no 'shared.weight' (Hugging Face T5 key names expected)")
    vocab, d_model = sd.get("shared.weight", sd.get("encoder.embed_tokens.weight")).shape
    layers = len({k.split(".")[2] for k in sd if k.startswith("encoder.block.")})
    q = sd["encoder.block.0.layer.0.SelfAttention.q.weight"]
    heads = sd["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"].shape[1]
    gated = "encoder.block.0.layer.1.DenseReluDense.wi_0.weight" in sd
    wi = sd["encoder.block.0.layer.1.DenseReluDense." + ("wi_0.weight" if gated else "wi.weight")]
    return T5Config(vocab_size=vocab, d_model=d_model, d_kv=q.shape[0] // heads, d_ff=wi.shape[0], num_layers=layers,
                    num_heads=heads, feed_forward_proj="gated-gelu" if gated else "relu", is_encoder_decoder=False)


def load_t5_encoder(path: str, tokenizer_folder: str | None = None, dtype=torch.float32, device="cpu") -> T5TextEncoder:
    """A Hugging Face T5 folder (config.json + weights + tokenizer), or one encoder .safetensors file
    with ``tokenizer_folder`` giving the tokenizer files."""
    from safetensors.torch import load_file
    from transformers import T5EncoderModel

    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise TextEncoderError(f"{path}: no config.json; expected a Hugging Face T5 encoder folder")
        tokenizer = load_tokenizer(tokenizer_folder or path)
        model = T5EncoderModel.from_pretrained(path, use_safetensors=True, **from_pretrained_dtype(dtype))
    else:
        if not path.endswith(".safetensors"):
            raise TextEncoderError(f"{path}: a single-file T5 encoder must be .safetensors")
        if tokenizer_folder is None:
            raise TextEncoderError(f"{path}: a single-file T5 encoder needs a tokenizer folder")
        tokenizer = load_tokenizer(tokenizer_folder)
        sd = load_file(path)
        with torch.device("meta"):
            model = T5EncoderModel(t5_config_from_state_dict(sd))
        sd.setdefault("encoder.embed_tokens.weight", sd.get("shared.weight"))
        missing, unexpected = model.load_state_dict(sd, strict=False, assign=True)
        if missing:
            raise TextEncoderError(f"{path}: missing T5 encoder keys, e.g. {missing[:5]}")
        model = model.to(dtype)
    return T5TextEncoder(model.to(device).eval().requires_grad_(False), tokenizer)
