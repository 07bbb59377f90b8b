"""The release file as a trainer writes it loads and converts; pickles that would run code are refused, naming
what they ask for, with nothing run and nothing written."""
import os
import subprocess
import sys

import pytest
import torch

from comfyui_deig.deig_core.checkpoint import InertObject, UnsafeCheckpointError, load_pickle_weights, load_weights
from comfyui_deig.deig_core.convert import convert
from devkit.release_checkpoints import save_hostile_checkpoints, save_trainer_checkpoint
from devkit.synthetic_models import synthetic_deig_config, synthetic_deig_state_dict

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SMALL_UNET = {"model_channels": 32, "channel_mult": [1, 2], "num_res_blocks": 1, "attention_resolutions": [1, 2]}
# what each hostile file's refusal must name
NAMED = {"os_system": "posix.system" if os.name == "posix" else "nt.system", "builtins_eval": "builtins.eval",
         "builtins_exec": "builtins.exec", "getattr": "builtins.getattr", "importlib": "importlib.import_module",
         "subprocess": "subprocess.call", "unknown_module": "trainer_plugins.hooks.TrainerHook",
         "os_system_legacy": "system"}


@pytest.fixture(scope="module")
def deig_sd():
    return synthetic_deig_state_dict(synthetic_deig_config(text_dim=16, unet=SMALL_UNET))


def test_trainer_checkpoint_loads_with_training_state_as_inert_data(tmp_path, deig_sd):
    path = save_trainer_checkpoint(deig_sd, tmp_path / "model.pth")
    names = set(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    # the fixture really carries the classes PyTorch's own safe loader refuses
    assert {"omegaconf.dictconfig.DictConfig", "omegaconf.nodes.AnyNode", "argparse.Namespace"} <= names
    assert any(n.endswith("multiarray.scalar") for n in names) and any(n.endswith("Path") for n in names)
    with pytest.raises(Exception, match="Unsupported global"):
        torch.load(path, weights_only=True)
    obj = load_pickle_weights(str(path))
    assert type(obj["config_dict"]).pickled_as == "omegaconf.dictconfig.DictConfig"
    assert isinstance(obj["args"], InertObject) and type(obj["iters"]).__bases__ == (InertObject,)
    assert obj["opt"]["param_groups"][0]["initial_lr"] == 5e-5 and torch.is_tensor(obj["opt"]["state"][0]["exp_avg"])
    sd = load_weights(str(path))
    assert set(sd) == set(deig_sd) and all(torch.equal(sd[k], deig_sd[k]) for k in deig_sd)


def test_trainer_checkpoint_loads_where_omegaconf_cannot_be_imported(tmp_path, deig_sd):
    path = save_trainer_checkpoint(deig_sd, tmp_path / "model.pth")
    code = ("import sys; sys.modules['omegaconf'] = None\n"
            "from deig_core.checkpoint import load_weights\n"
            f"print(len(load_weights({str(path)!r})))\n"
            "assert 'omegaconf' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(len(deig_sd))


def test_trainer_checkpoint_converts(tmp_path, deig_sd):
    src = save_trainer_checkpoint(deig_sd, tmp_path / "model.pth")
    dst = tmp_path / "deig.safetensors"
    r = subprocess.run([sys.executable, "-m", "deig_core.convert", str(src), str(dst), "--dtype", "fp16"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert set(load_weights(str(dst))) == set(deig_sd)


def test_hostile_payloads_run_code_when_loaded_unrestricted(tmp_path, deig_sd):
    """The control for the refusals below: each 'effective' payload does create the marker."""
    files = save_hostile_checkpoints(tmp_path, tmp_path / "marker", {"w": torch.zeros(1)})
    for name, (path, effective) in files.items():
        if effective:
            torch.load(path, weights_only=False)
            assert (tmp_path / "marker").exists(), name
            (tmp_path / "marker").unlink()


def test_hostile_checkpoints_are_refused_naming_the_class_with_nothing_run_or_written(tmp_path, deig_sd):
    marker = tmp_path / "marker"
    files = save_hostile_checkpoints(tmp_path, marker, deig_sd)
    assert set(files) == set(NAMED)
    for name, (path, _) in files.items():
        with pytest.raises(UnsafeCheckpointError, match=f"names [^ ]*{NAMED[name]}") as e:
            load_weights(str(path))
        assert "hf download dushy5/DEIG" in str(e.value) and "deig_core.convert" not in str(e.value)
        dst = tmp_path / f"{name}.safetensors"
        with pytest.raises(UnsafeCheckpointError):
            convert(str(path), str(dst))
        assert not dst.exists()
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p, _ in files.values())
