"""DEIG Model Loader on the release file as a trainer writes it (training state beside the weights), and on a
hostile one (refused, nothing run)."""
import pytest
import torch

pytestmark = pytest.mark.integration

pytest.importorskip("folder_paths")

from comfyui_deig.nodes.nodes_loaders import DEIGModelLoader  # noqa: E402
from devkit.release_checkpoints import save_hostile_checkpoints, save_trainer_checkpoint  # noqa: E402
from devkit.synthetic_models import synthetic_deig_config, synthetic_deig_state_dict  # noqa: E402

SMALL_UNET = {"model_channels": 32, "channel_mult": [1, 2], "num_res_blocks": 1, "attention_resolutions": [1, 2]}


def test_model_loader_reads_trainer_checkpoint_and_refuses_hostile_one(model_dirs):
    sd = synthetic_deig_state_dict(synthetic_deig_config(text_dim=16, unet=SMALL_UNET))
    save_trainer_checkpoint(sd, model_dirs / "deig" / "model.pth")
    model = DEIGModelLoader.execute("model.pth", "fp32").args[0].model
    loaded = model.official_state_dict()
    assert set(loaded) == set(sd) and all(torch.equal(loaded[k], sd[k]) for k in sd)

    marker = model_dirs / "marker"
    hostile = save_hostile_checkpoints(model_dirs / "deig", marker, sd)["os_system"][0]
    with pytest.raises(Exception, match="refused to load: the pickle names posix.system") as e:
        DEIGModelLoader.execute(hostile.name, "fp32")
    assert "DEIG Model Loader: input 'deig_name'" in str(e.value)
    assert not marker.exists()
