"""The port against the official DEIG reference vectors (intermediate outputs; the whole UNet forward
through the host is ``test_parity_with_the_reference_vectors`` in tests/integration/test_patch.py)."""
import json
import os

import pytest
import torch
from safetensors.torch import load_file

from comfyui_deig.deig_core.model import build_from_official, split_official
from devkit.seeded_weights import seeded_state_dict

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures")
TOL = 1e-4


@pytest.fixture(scope="module")
def ref():
    meta = json.load(open(os.path.join(FIX, "deig_reference_vectors.json")))
    vec = load_file(os.path.join(FIX, "deig_reference_vectors.safetensors"))
    deig, _, _ = split_official(seeded_state_dict(meta["state_dict_shapes"]))
    model = build_from_official(deig, ide_heads=meta["ide_config"].get("heads", 8))
    return model, vec


def test_ide_context(ref):
    model, vec = ref
    with torch.no_grad():
        ctx = model.IDE(vec["in.context_t5"], vec["in.timesteps"])
    assert ctx.shape == vec["out.ide_context"].shape
    assert (ctx - vec["out.ide_context"]).abs().max() <= TOL


def test_ide_instances_and_object_tokens(ref):
    model, vec = ref
    b, n, l, d = vec["in.instance_t5"].shape
    with torch.no_grad():
        inst = model.IDE(vec["in.instance_t5"].reshape(b * n, l, d), vec["in.timesteps"]).reshape(b, n, -1, 768)
        objs = model.position_net(vec["in.boxes"], vec["in.presence"], inst)
    assert (inst - vec["out.ide_instances"]).abs().max() <= TOL
    assert (objs - vec["out.object_tokens"]).abs().max() <= TOL


def test_per_sample_timesteps_are_per_sample(ref):
    model, vec = ref
    x = vec["in.context_t5"].repeat(2, 1, 1)
    with torch.no_grad():
        both = model.IDE(x, torch.tensor([10.0, 900.0]))
        one = model.IDE(x[:1], torch.tensor([900.0]))
    assert torch.allclose(both[1:], one, atol=1e-5)
    assert not torch.allclose(both[0], both[1], atol=1e-3)
