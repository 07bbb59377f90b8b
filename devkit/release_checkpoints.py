"""Pickled checkpoints as training scripts write them, and hostile ones, for the loader's safety tests.

* :func:`save_trainer_checkpoint` - a ``torch.save``'d dict the way a GLIGEN-style trainer (the official
  DEIG trainer's lineage) writes it: ``model`` (the given state dict), ``autoencoder``, ``diffusion``,
  an AdamW state, a LambdaLR state, ``iters`` as a numpy integer, the run's config as a real OmegaConf
  ``DictConfig`` (``config_dict``) and the command line as an ``argparse.Namespace`` holding numpy scalars,
  a numpy array and a ``pathlib`` path. Needs ``omegaconf`` (a dev-only test requirement).
* :func:`save_hostile_checkpoints` - files whose pickle would run code when loaded without restriction
  (``os.system``, ``builtins.eval``/``exec``, ``getattr``, ``importlib``, ``subprocess``, a class from a
  module the loader does not know); the effective ones create ``marker`` when run.
"""
from __future__ import annotations

import argparse
import builtins
import datetime
import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

# What a GLIGEN-style trainer's configs/config.yaml holds (shape only; the values are illustrative).
TRAINER_CONFIG = {
    "diffusion": {"target": "ldm.models.diffusion.ldm.LatentDiffusion",
                  "params": {"linear_start": 0.00085, "linear_end": 0.012, "timesteps": 1000}},
    "model": {"target": "ldm.modules.diffusionmodules.openaimodel.UNetModel",
              "params": {"image_size": 64, "in_channels": 4, "model_channels": 320, "channel_mult": [1, 2, 4, 4],
                         "attention_resolutions": [4, 2, 1], "fuser_type": "gatedSA", "use_checkpoint": True}},
    "DEIGDataset": {"target": "dataset.dataset_deig.DEIGDataset",
                    "params": {"image_size": 512, "max_boxes_per_data": 30, "random_flip": True,
                               "prob_use_caption": 0.9, "tsv_path": None}},
    "train_dataset_names": {"DEIGDataset": {}},
}


def save_trainer_checkpoint(model: dict[str, torch.Tensor], path: Path, iters: int = 5000) -> Path:
    from omegaconf import OmegaConf

    layer = torch.nn.Linear(4, 4)
    opt = torch.optim.AdamW(layer.parameters(), lr=5e-5, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 10000))
    layer(torch.ones(2, 4)).sum().backward()
    opt.step()
    scheduler.step()
    config = OmegaConf.create(TRAINER_CONFIG)
    args = argparse.Namespace(name="deig_run", yaml_file=Path("configs/config.yaml"), base_learning_rate=np.float64(5e-5),
                              seed=np.int64(123), batch_size=np.int32(2), total_iters=500000,
                              box_scale=np.array([1.0, 1.0], dtype=np.float32), started=datetime.datetime(2025, 6, 1))
    torch.save({"model": model, "autoencoder": {}, "diffusion": {}, "text_encoder": {},
                "opt": opt.state_dict(), "scheduler": scheduler.state_dict(), "iters": np.int64(iters),
                "config_dict": config, "args": args, "ema": {}}, path)
    return Path(path)


class _Payload:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class TrainerHook:
    """A class from a module the loader has never heard of (registered under that name only to save it)."""

    def __reduce__(self):
        return TrainerHook, ()


TrainerHook.__module__ = "trainer_plugins.hooks"


def hostile_payloads(marker: Path) -> dict[str, tuple[object, bool]]:
    """name -> (object whose pickle calls it, whether an unrestricted load creates ``marker``)."""
    m = str(marker)
    return {
        "os_system": (_Payload(os.system, f"touch '{m}'"), True),
        "builtins_eval": (_Payload(builtins.eval, f"open({m!r}, 'w').close()"), True),
        "builtins_exec": (_Payload(builtins.exec, f"open({m!r}, 'w').close()"), True),
        "getattr": (_Payload(Path(m).touch), True),  # a bound method pickles as getattr(obj, name)
        "importlib": (_Payload(importlib.import_module, "antigravity_not_here"), False),
        "subprocess": (_Payload(subprocess.call, ["touch", m]), True),
        "unknown_module": (TrainerHook(), False),
    }


def save_hostile_checkpoints(folder: Path, marker: Path, model: dict[str, torch.Tensor]) -> dict[str, tuple[Path, bool]]:
    """Each payload beside a valid ``model`` in a zip checkpoint (and os.system also as a legacy pickle)."""
    folder = Path(folder)
    out = {}
    sys.modules.setdefault("trainer_plugins", type(sys)("trainer_plugins"))
    sys.modules["trainer_plugins.hooks"] = type(sys)("trainer_plugins.hooks")
    sys.modules["trainer_plugins.hooks"].TrainerHook = TrainerHook
    try:
        for name, (payload, effective) in hostile_payloads(marker).items():
            path = folder / f"{name}.pth"
            torch.save({"model": model, "config_dict": payload}, path)
            out[name] = (path, effective)
        legacy = folder / "os_system_legacy.pth"
        torch.save({"model": model, "args": hostile_payloads(marker)["os_system"][0]}, legacy,
                   _use_new_zipfile_serialization=False)
        out["os_system_legacy"] = (legacy, True)
    finally:
        del sys.modules["trainer_plugins.hooks"], sys.modules["trainer_plugins"]
    return out
