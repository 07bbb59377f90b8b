"""Loader and encode nodes on real files: T5 folders and single files, DEIG .safetensors and .pth."""
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

pytestmark = pytest.mark.integration

import folder_paths  # noqa: E402  (a missing host fails here: tests/conftest.py puts it on sys.path)

from comfyui_deig.deig_core.layout import parse_layout  # noqa: E402
from devkit.synthetic_models import synthetic_deig_config, synthetic_deig_state_dict  # noqa: E402
from comfyui_deig.deig_core.text_encoder import TextEncoderError, load_t5_encoder  # noqa: E402
from comfyui_deig.nodes.nodes_encode import SD15_CONTEXT, DEIGEncode, DEIGEncodeNegative  # noqa: E402
from comfyui_deig.nodes.nodes_layout import InstanceLayout  # noqa: E402
from comfyui_deig.nodes.nodes_loaders import DEIGModelLoader, HOST_TOKENIZER, T5EncoderLoader  # noqa: E402
from devkit.synthetic_models import t5_encoder_dir  # noqa: E402

SMALL_UNET = {"model_channels": 32, "channel_mult": [1, 2], "num_res_blocks": 1, "attention_resolutions": [1, 2]}


@pytest.fixture(scope="module")
def t5_dir():
    return str(t5_encoder_dir())


def test_t5_encoding_is_padded_truncated_and_cached(t5_dir):
    enc = load_t5_encoder(t5_dir)
    long_text = "a red apple " * 100
    feats = enc.encode(["a cat", long_text, ""])
    assert feats.shape == (3, 128, enc.d_model)
    calls = []
    enc._run = lambda texts: calls.append(texts)  # the cache must answer without running T5
    again = enc.encode(["a cat", long_text])
    assert calls == [] and torch.equal(again, feats[:2])


def test_t5_cache_is_bounded_in_bytes(t5_dir):
    enc = load_t5_encoder(t5_dir)
    per_text = 128 * enc.d_model * 4
    enc.cache_bytes = 3 * per_text
    enc.encode([f"object {i}" for i in range(5)])
    assert list(enc._cache) == ["object 2", "object 3", "object 4"]  # least recently used evicted
    # each entry owns its storage: the cache holds exactly its bound, not the encoded batch
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in enc._cache.values()}
    assert len(storages) == 3 and sum(storages.values()) == 3 * per_text


def test_single_file_encoder_with_host_tokenizer_matches_folder(t5_dir, tmp_path):
    path = tmp_path / "t5-tiny-encoder.safetensors"
    shutil.copy(os.path.join(t5_dir, "model.safetensors"), path)
    a = load_t5_encoder(t5_dir).encode(["a woman in a white shirt"])
    b = load_t5_encoder(str(path), HOST_TOKENIZER).encode(["a woman in a white shirt"])
    assert torch.allclose(a, b, atol=1e-5)


def test_t5_loader_lists_what_it_can_load(model_dirs, t5_dir):
    from comfyui_deig.nodes.nodes_loaders import t5_choices

    enc = model_dirs / "text_encoders"
    shutil.copytree(t5_dir, enc / "my-flan")                                        # HF folder
    shutil.copy(os.path.join(t5_dir, "model.safetensors"), enc / "encoder_only.safetensors")  # no "t5" in the name
    save_file({"text_model.embeddings.token_embedding.weight": torch.zeros(4, 4)}, str(enc / "clip_l.safetensors"))
    (enc / "t5_broken.safetensors").write_bytes(b"not a safetensors file")
    folder_paths.filename_list_cache.clear()
    assert t5_choices() == ["encoder_only.safetensors", "my-flan"]


def test_folder_without_tokenizer_files_is_named(t5_dir, tmp_path):
    bare = tmp_path / "t5-no-tokenizer"
    bare.mkdir()
    for f in ("config.json", "model.safetensors"):
        shutil.copy(os.path.join(t5_dir, f), bare / f)
    with pytest.raises(TextEncoderError, match="no T5 tokenizer files"):
        load_t5_encoder(str(bare))


def test_loader_nodes_and_encode(model_dirs, t5_dir):
    shutil.copytree(t5_dir, model_dirs / "text_encoders" / "flan-t5-tiny")
    t5 = T5EncoderLoader.execute("flan-t5-tiny", "fp32").args[0]
    sd = synthetic_deig_state_dict(synthetic_deig_config(text_dim=t5.encoder.d_model, unet=SMALL_UNET))
    torch.save({"model": sd, "autoencoder": {}, "diffusion": {}}, model_dirs / "deig" / "model.pth")
    save_file(sd, str(model_dirs / "deig" / "deig.safetensors"))
    from_pth = DEIGModelLoader.execute("model.pth", "fp32").args[0].model
    from_st = DEIGModelLoader.execute("deig.safetensors", "fp16").args[0].model
    assert len(from_pth.fusers) == len(from_st.fusers) == 7  # 2 input + middle + 4 output blocks
    assert next(from_st.parameters()).dtype == torch.float16

    value = '[{"box": [0.1, 0.1, 0.5, 0.9], "text": "a red car"}, {"box": [0.5, 0.2, 0.9, 0.8], "text": "a dog"}]'
    layout = InstanceLayout.execute(value, 512, 768).args[0]
    cond = DEIGEncode.execute(t5, "a street", layout).args[0]
    g = cond[0][1]["model_conds"]["deig"].cond
    assert cond[0][0].shape == (1, *SD15_CONTEXT)
    assert g.instance_t5.shape == (1, 2, 128, t5.encoder.d_model) and g.presence.all()
    assert torch.allclose(g.boxes[0], torch.tensor([list(i.box) for i in parse_layout(value)]))
    neg = DEIGEncodeNegative.execute(t5, "").args[0][0][1]["model_conds"]["deig"].cond
    assert neg.slots == 0


def test_missing_files_name_the_folder(model_dirs):
    with pytest.raises(ValueError, match=r"input 'deig_name'.*not found. Searched: .*deig"):
        DEIGModelLoader.execute("deig.safetensors", "auto")
    with pytest.raises(ValueError, match=r"input 't5_name'.*not found. Searched: .*text_encoders"):
        T5EncoderLoader.execute("flan-t5-xl", "auto")


def test_wrong_file_in_deig_folder_is_a_clear_error(model_dirs):
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(1)},
              str(model_dirs / "deig" / "sd15.safetensors"))
    with pytest.raises(ValueError, match="input 'deig_name'.*unexpected keys"):
        DEIGModelLoader.execute("sd15.safetensors", "fp32")
    assert load_file(str(model_dirs / "deig" / "sd15.safetensors"))  # nothing was changed


def test_region_masks_input(model_dirs):
    value = '[{"box": [0.0, 0.0, 1.0, 1.0], "text": "left blob"}]'
    mask = torch.zeros(1, 64, 96)
    mask[0, 10:30, 5:40] = 1.0
    layout = InstanceLayout.execute(value, 768, 512, masks=mask).args[0]
    x1, y1, x2, y2 = layout.instances[0].box
    assert (x1, y1, x2, y2) == (5 / 96, 10 / 64, 40 / 96, 30 / 64)
    with pytest.raises(ValueError, match="input 'masks' has 1 masks but the layout has 2"):
        InstanceLayout.execute(value[:-1] + ', {"box": [0, 0, 1, 1], "text": "b"}]', 768, 512, masks=mask)


def test_t5_patcher_clones_like_any_model_patcher(model_dirs, t5_dir):
    shutil.copytree(t5_dir, model_dirs / "text_encoders" / "flan-t5-tiny")
    t5 = T5EncoderLoader.execute("flan-t5-tiny", "fp32").args[0]
    clone = t5.clone()
    assert type(clone) is type(t5) and clone.encoder is t5.encoder and clone.is_clone(t5)
    assert torch.equal(clone.encode(["a red car"]), t5.encode(["a red car"]))
