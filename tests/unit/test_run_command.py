"""The pack's commands run where the current folder is not on sys.path, as under the Windows portable build
(its embedded python's ._pth file; ``python -I`` behaves the same here): through run_command.py, from any
folder."""
import os
import subprocess
import sys

import torch

from devkit.synthetic_models import synthetic_deig_config, synthetic_deig_state_dict

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAUNCHER = os.path.join(REPO, "run_command.py")
SMALL_UNET = {"model_channels": 32, "channel_mult": [1, 2], "num_res_blocks": 1, "attention_resolutions": [1, 2]}


def _run(args, cwd):
    return subprocess.run([sys.executable, "-I", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_module_commands_fail_without_the_current_folder_on_sys_path():
    """The problem run_command.py solves: `-m` from the pack's own folder finds nothing under -I."""
    r = _run(["-m", "deig_core.convert", "--help"], cwd=REPO)
    assert r.returncode != 0 and "No module named 'deig_core'" in r.stderr


def test_convert_runs_through_the_launcher_from_another_folder(tmp_path):
    sd = synthetic_deig_state_dict(synthetic_deig_config(text_dim=16, unet=SMALL_UNET))
    torch.save({"model": sd}, tmp_path / "model.pth")
    r = _run([LAUNCHER, "deig_core.convert", "model.pth", "deig.safetensors", "--dtype", "fp16"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "deig.safetensors").is_file()


def test_eval_runs_through_the_launcher_from_another_folder(tmp_path):
    for sub in ("run", "score"):
        r = _run([LAUNCHER, "deig_eval", sub, "--help"], cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "--manifest" in r.stdout or "--server" in r.stdout


def test_launcher_names_its_commands_when_given_another():
    r = _run([LAUNCHER, "os"], cwd=REPO)
    assert r.returncode == 2 and "deig_core.convert" in r.stderr and "deig_eval" in r.stderr
