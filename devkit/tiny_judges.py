"""Tiny random-weight judging models in the transformers formats ``deig_eval.metrics.models`` loads:
GroundingDINO, SAM, CLIP and Qwen2.5-VL, the exact model classes of the real checkpoints, with real-format
tokenizer and processor files built here (no hub): a BERT WordPiece vocab with BERT's special-token ids,
CLIP's and Qwen's byte-level BPE vocabularies (every byte, no merges) and Qwen's chat special tokens.

:func:`build_tiny_judges` writes ``{grounding_dino, sam, clip, qwen}`` folders under a root and returns
their paths, each built once (``devkit.cache.cached_build``).
"""
from __future__ import annotations

import json
from pathlib import Path

from .cache import cached_build

BERT_SPECIAL_IDS = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]", 1012: ".", 1029: "?"}
BERT_VOCAB_SIZE = 1100
QWEN_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|image_pad|>", "<|video_pad|>"]
QWEN_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _grounding_dino(out: Path) -> None:
    from transformers import (BertConfig, BertTokenizerFast, GroundingDinoConfig, GroundingDinoForObjectDetection,
                              GroundingDinoImageProcessor, GroundingDinoProcessor, SwinConfig)

    vocab = [f"[unused{i}]" for i in range(BERT_VOCAB_SIZE)]
    for i, t in BERT_SPECIAL_IDS.items():  # GroundingDINO finds phrase boundaries by these ids
        vocab[i] = t
    pieces = list("abcdefghijklmnopqrstuvwxyz0123456789,") + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    vocab[200:200 + len(pieces)] = pieces
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(out / "vocab.txt"), do_lower_case=True)
    GroundingDinoProcessor(image_processor=GroundingDinoImageProcessor(size={"shortest_edge": 64, "longest_edge": 64}),
                           tokenizer=tokenizer).save_pretrained(out)
    config = GroundingDinoConfig(
        backbone_config=SwinConfig(image_size=64, patch_size=4, embed_dim=8, depths=[1, 1, 1, 1],
                                   num_heads=[1, 1, 1, 1], window_size=4, out_features=["stage2", "stage3", "stage4"]),
        text_config=BertConfig(vocab_size=BERT_VOCAB_SIZE, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=32, max_position_embeddings=64),
        d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, num_queries=8, num_feature_levels=3, encoder_n_points=2,
        decoder_n_points=2, max_text_len=64, use_timm_backbone=False, backbone=None, use_pretrained_backbone=False)
    GroundingDinoForObjectDetection(config).eval().save_pretrained(out)


def _sam(out: Path) -> None:
    from transformers import (SamConfig, SamImageProcessor, SamMaskDecoderConfig, SamModel, SamProcessor,
                              SamPromptEncoderConfig, SamVisionConfig)

    config = SamConfig(
        vision_config=SamVisionConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, output_channels=32,
                                      image_size=64, patch_size=16, global_attn_indexes=[0], mlp_dim=64,
                                      num_pos_feats=16),
        prompt_encoder_config=SamPromptEncoderConfig(hidden_size=32, image_size=64, patch_size=16,
                                                     mask_input_channels=4),
        mask_decoder_config=SamMaskDecoderConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                                 mlp_dim=64, iou_head_hidden_dim=32))
    SamModel(config).eval().save_pretrained(out)
    SamProcessor(SamImageProcessor(size={"longest_edge": 64}, pad_size={"height": 64, "width": 64},
                                   mask_size={"longest_edge": 16}, mask_pad_size={"height": 16, "width": 16})
                 ).save_pretrained(out)


def _byte_vocab(out: Path, extra: list[str], suffixed: bool) -> None:
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    vocab = chars + ([c + "</w>" for c in chars] if suffixed else []) + extra
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (out / "merges.txt").write_text("#version: 0.2\n")


def _clip(out: Path) -> None:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    _byte_vocab(out, ["<|startoftext|>", "<|endoftext|>"], suffixed=True)
    tokenizer = CLIPTokenizer(str(out / "vocab.json"), str(out / "merges.txt"), model_max_length=77)
    CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
                  tokenizer=tokenizer).save_pretrained(out)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=77),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=8), projection_dim=16)
    CLIPModel(config).eval().save_pretrained(out)


def _qwen(out: Path) -> None:
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2Tokenizer, Qwen2VLImageProcessor

    _byte_vocab(out, [], suffixed=False)
    tokenizer = Qwen2Tokenizer(str(out / "vocab.json"), str(out / "merges.txt"), unk_token=None, bos_token=None,
                               eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": QWEN_SPECIAL[1:]})
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    tokenizer.save_pretrained(out)
    Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16).save_pretrained(out)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL}
    # The text model's fields at the top level: transformers 4.50.3 (ComfyUI's floor) has no text_config, newer
    # versions build it from these.
    config = Qwen2_5_VLConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        vision_config=dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, fullatt_block_indexes=[0],
                           window_size=56),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"])
    Qwen2_5_VLForConditionalGeneration(config).eval().save_pretrained(out)


BUILDERS = {"grounding_dino": _grounding_dino, "sam": _sam, "clip": _clip, "qwen": _qwen}


def build_tiny_judges(root: Path, seed: int = 0) -> dict[str, Path]:
    import torch

    def seeded(build):
        def run(out: Path) -> None:
            torch.manual_seed(seed)
            build(out)
        return run

    import transformers

    # one set per transformers version: a config saved by a newer version (Qwen2.5-VL's nested text_config)
    # does not load in an older one, and make test runs the floor version on the same cache
    root = Path(root) / f"transformers-{transformers.__version__}"
    return {name: cached_build(root / name, seeded(build), f"tiny {name}") for name, build in BUILDERS.items()}
