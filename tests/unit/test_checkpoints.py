"""Checkpoint reading and conversion: official key layout, safety, clear errors, no partial output."""
import json
import os
import pickle
import subprocess
import sys

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from comfyui_deig.deig_core.checkpoint import CheckpointError, UnsafeCheckpointError, load_weights
from comfyui_deig.deig_core.convert import convert
from comfyui_deig.deig_core.model import build_from_official, split_official
from devkit.synthetic_models import synthetic_deig_config, synthetic_deig_state_dict

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _official_meta():
    shapes = json.load(open(os.path.join(FIX, "official_full_state_dict_shapes.json")))["state_dict_shapes"]
    return {k: torch.empty(s, device="meta") for k, s in shapes.items()}


def test_full_official_key_list_maps_one_to_one_on_meta():
    sd = _official_meta()
    assert len(sd) == 1095
    deig, unet, unexpected = split_official(sd)
    assert not unexpected
    model = build_from_official(sd)
    assert all(p.is_meta for p in model.parameters())
    assert set(model.official_state_dict()) == set(deig)
    counts = {"fuser": 0, "IDE": 0, "position_net": 0}
    for k, v in model.official_state_dict().items():
        counts["fuser" if ".fuser." in k else k.split(".")[0]] += v.numel()
    assert counts == {"fuser": 208018272, "IDE": 88045056, "position_net": 1083968}
    assert len(model.fusers) == 16 and model.cfg.ide.input_dim == 2048 and model.num_latents == 16


def test_shape_mismatch_names_the_key():
    sd = _official_meta()
    sd["output_blocks.5.1.transformer_blocks.0.fuser.attn.to_q.weight"] = torch.empty(3, 3, device="meta")
    with pytest.raises(CheckpointError, match="output_blocks.5.1.transformer_blocks.0.fuser.attn.to_q.weight"):
        build_from_official(sd)


def test_missing_and_unexpected_keys_are_named():
    sd = _official_meta()
    del sd["IDE.connector.perceiver_blocks.3.mlp.c_fc.bias"]
    with pytest.raises(CheckpointError, match="perceiver_blocks.3.mlp.c_fc.bias"):
        build_from_official(sd)
    sd = _official_meta()
    sd["something_else.weight"] = torch.empty(1, device="meta")
    with pytest.raises(CheckpointError, match="something_else.weight"):
        build_from_official(sd)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned_by_pickle",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # the hostile file is written with protocol 4
def test_pickle_with_code_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"model": {"x": _RunsCode()}}, f)
    torch.save({"model": {"w": torch.zeros(1)}, "payload": _RunsCode()}, tmp_path / "evil_zip.pth")
    for p in (path, tmp_path / "evil_zip.pth"):
        with pytest.raises(UnsafeCheckpointError, match="refused"):
            load_weights(str(p))
    assert not (tmp_path / "pwned_by_pickle").exists()


def test_truncated_and_corrupt_safetensors(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"a": torch.randn(64, 64)}, str(path))
    data = path.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_weights(str(tmp_path / "trunc.safetensors"))
    (tmp_path / "junk.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(CheckpointError, match="corrupt"):
        load_weights(str(tmp_path / "junk.safetensors"))


def test_convert_official_pth_keeps_only_deig_parts(tmp_path):
    cfg = synthetic_deig_config(text_dim=16, unet={"model_channels": 32, "channel_mult": [1, 2], "num_res_blocks": 1,
                                              "attention_resolutions": [1, 2]})
    deig = synthetic_deig_state_dict(cfg)
    full = dict(deig, **{"input_blocks.0.0.weight": torch.randn(32, 4, 3, 3), "out.2.bias": torch.zeros(4)})
    src = tmp_path / "model.pth"
    torch.save({"model": full, "autoencoder": {"x": torch.zeros(1)}, "diffusion": {"betas": torch.zeros(3)}}, src)
    dst = tmp_path / "out" / "deig.safetensors"
    meta = convert(str(src), str(dst), "fp16")
    loaded = load_weights(str(dst))
    assert set(loaded) == set(deig) and all(v.dtype == torch.float16 for v in loaded.values())
    with safe_open(str(dst), "pt") as f:
        assert f.metadata()["source_sha256"] == meta["source_sha256"]


def _convert_cli(src, dst):
    return subprocess.run([sys.executable, "-m", "deig_core.convert", str(src), str(dst)], cwd=REPO,
                          capture_output=True, text=True)


def _temporary_files(folder):
    return [p for p in os.listdir(folder) if p.startswith(".deig-convert")]


def test_convert_cli_writes_nothing_on_bad_input(tmp_path):
    src = tmp_path / "bad.pth"
    torch.save({"model": {"IDE.connector.latents": torch.zeros(4, 8)}}, src)
    dst = tmp_path / "out.safetensors"
    r = _convert_cli(src, dst)
    assert r.returncode == 1 and "nothing written" in r.stderr
    assert not dst.exists() and not _temporary_files(tmp_path)


def test_convert_failure_after_writing_leaves_no_temporary_file(tmp_path):
    """The output is complete in its temporary file when the final rename fails (the destination is a
    folder): the command fails, names it, and removes the temporary file."""
    cfg = synthetic_deig_config(text_dim=16, unet={"model_channels": 32, "channel_mult": [1], "num_res_blocks": 1,
                                              "attention_resolutions": [1]})
    src = tmp_path / "model.pth"
    torch.save({"model": synthetic_deig_state_dict(cfg)}, src)
    dst = tmp_path / "out" / "deig.safetensors"
    os.makedirs(dst)
    (dst / "kept.txt").write_text("x")
    r = _convert_cli(src, dst)
    assert r.returncode == 1 and "nothing written" in r.stderr and str(dst) in r.stderr
    assert not _temporary_files(dst.parent)
    assert os.listdir(dst) == ["kept.txt"]
