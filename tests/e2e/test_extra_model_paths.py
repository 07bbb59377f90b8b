"""Model files kept outside ComfyUI's models folder, named in extra_model_paths.yaml with the pack's own
``deig:`` key (and the host's ``text_encoders:``), are found by a real server: listed by the DEIG loaders and
not reported missing by the editor's check."""
import json
import shutil

import pytest
from safetensors.torch import save_file

from devkit.synthetic_models import synthetic_deig_config, synthetic_deig_state_dict, t5_encoder_dir

pytestmark = pytest.mark.e2e

SMALL_UNET = {"model_channels": 32, "channel_mult": [1, 2], "num_res_blocks": 1, "attention_resolutions": [1, 2]}


def _choices(server, node: str, name: str) -> list[str]:
    kind, *rest = server.object_info(node)[node]["input"]["required"][name]
    return rest[0]["options"] if kind == "COMBO" else kind  # V3 COMBO or the classic list


def test_deig_key_in_extra_model_paths_yaml_finds_the_models(tmp_path, models_dir, host_dir):
    from devkit.server import running_server

    shared = tmp_path / "shared models"
    (shared / "deig-weights").mkdir(parents=True)
    save_file(synthetic_deig_state_dict(synthetic_deig_config(text_dim=16, unet=SMALL_UNET)),
              str(shared / "deig-weights" / "deig_from_extra_path.safetensors"))
    shutil.copytree(t5_encoder_dir(), shared / "t5" / "flan-t5-from-extra-path")
    config = tmp_path / "extra_model_paths.yaml"
    config.write_text(f"my_shared_models:\n    base_path: {json.dumps(str(shared))}\n"
                      "    deig: deig-weights\n    text_encoders: t5\n", encoding="utf-8")

    with running_server(tmp_path / "comfy", models_dir, host_dir,
                        extra_args=("--extra-model-paths-config", str(config))) as server:
        assert "deig_from_extra_path.safetensors" in _choices(server, "DEIG_ModelLoader", "deig_name")
        assert "flan-t5-from-extra-path" in _choices(server, "DEIG_T5Loader", "t5_name")
        asked = [{"node": "1", "title": "DEIG Model Loader", "input": "deig_name",
                  "value": "deig_from_extra_path.safetensors"},
                 {"node": "2", "title": "DEIG T5 Encoder Loader", "input": "t5_name", "value": "flan-t5-from-extra-path"},
                 {"node": "3", "title": "DEIG Model Loader", "input": "deig_name", "value": "not_there.safetensors"}]
        missing = server.request("/deig/missing_models", data={"models": asked})["missing"]
        assert [m["node"] for m in missing] == ["3"]
        assert str(shared / "deig-weights") in missing[0]["paths"]
