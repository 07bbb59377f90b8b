"""The example workflows through a real ComfyUI server with the pack, on synthetic models named as
the workflows expect them (devkit/example_models.py)."""
import json
import os

import pytest

from devkit.example_models import install_example_inputs, install_example_models
from devkit.server import PromptError

from devkit.paths import REPO_ROOT as REPO
from comfyui_deig.deig_eval.workflow import set_inputs, to_api

WORKFLOWS = sorted(f[:-5] for f in os.listdir(os.path.join(REPO, "example_workflows")) if f.endswith(".json"))
DEIG_WORKFLOWS = [w for w in WORKFLOWS if w.startswith("deig_")]  # gligen_baseline: tests/e2e/test_gligen.py


@pytest.fixture(scope="module")
def server(comfy_server, models_dir):
    install_example_models(models_dir)
    install_example_inputs(comfy_server.input_dir)
    return comfy_server


def api_prompt(server, name, width=64, height=64, steps=2):
    with open(os.path.join(REPO, "example_workflows", f"{name}.json")) as f:
        prompt = to_api(json.load(f), server.object_info())
    set_inputs(prompt, "EmptyLatentImage", width=width, height=height)
    set_inputs(prompt, "KSampler", steps=steps)
    return prompt


def test_workflows_are_listed_as_templates(server):
    listed = server.request("/workflow_templates")
    assert sorted(listed[server.pack_folder]) == WORKFLOWS
    assert len(WORKFLOWS) == 6


def _images(server, prompt) -> dict:
    """SaveImage outputs of one run, by filename prefix, as uint8 arrays."""
    import numpy as np
    from PIL import Image

    entry = server.run(prompt, timeout=600)
    return {f.name.rsplit("_", 2)[0]: np.asarray(Image.open(f).convert("RGB")) for f in server.output_files(entry)}


@pytest.mark.parametrize("name", DEIG_WORKFLOWS)
def test_example_workflow_runs_and_its_fusers_change_the_image(server, name):
    prompt = api_prompt(server, name)
    images = _images(server, prompt)
    image, preview = images["DEIG"], images["DEIG_layout"]  # the generated image and its layout preview
    side = 96 if any(n["class_type"] == "LatentUpscaleBy" for n in prompt.values()) else 64  # hires fix: 1.5x
    assert image.shape == preview.shape == (side, side, 3)
    assert (preview != image).any()                   # the preview has the boxes drawn in
    set_inputs(prompt, "DEIG_Apply", strength=0.0)  # same IDE context, no fusers
    assert (_images(server, prompt)["DEIG"] != image).any()


def test_non_square_512x768(server):
    from PIL import Image

    entry = server.run(api_prompt(server, "deig_three_people", width=512, height=768, steps=1), timeout=900)
    sizes = {Image.open(f).size for f in server.output_files(entry)}
    assert sizes == {(512, 768)}


def test_layout_json_echoes_exactly(server):
    value = '[{"box": [0.125, 0.25, 0.5, 0.875], "text": "a red kite with a long tail"}]'
    prompt = {"1": {"class_type": "DEIG_InstanceLayout", "inputs": {"layout": value, "width": 512, "height": 512}},
              "2": {"class_type": "DEIG_LayoutToJSON", "inputs": {"layout": ["1", 0]}}}
    entry = server.run(prompt, timeout=120)
    assert entry["outputs"]["2"]["text"] == [value]


@pytest.mark.parametrize("layout, needle", [
    ('[{"box": [0.5, 0.1, 0.2, 0.9], "text": "a dog"}]', "x2 > x1"),
    # issue #23: through the API x2 = 1e29 was clamped to 1.0 and accepted
    ('[{"box": [0, 0, 1, 1], "text": "a field"}, {"box": [0.5, 0.5, 1e29, 0.9], "text": "a dog"}]',
     "instance 2: x2 = 1e+29 is outside the image"),
])
def test_malformed_layout_is_rejected_naming_node_and_input(server, layout, needle):
    prompt = api_prompt(server, "deig_three_people")
    set_inputs(prompt, "DEIG_InstanceLayout", layout=layout)
    with pytest.raises(PromptError) as err:
        server.submit(prompt)
    message = json.dumps(err.value.payload)
    assert "DEIG Instance Layout: input 'layout'" in message and needle in message


def test_plain_clip_conditioning_on_patched_model_is_refused(server):
    prompt = api_prompt(server, "deig_three_people")
    prompt["20"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 1]}}
    prompt["9"]["inputs"]["negative"] = ["20", 0]
    with pytest.raises(PromptError, match="DEIG Encode"):
        server.run(prompt, timeout=300)


def test_deig_conditioning_on_a_model_without_deig_apply_is_refused(server):
    prompt = api_prompt(server, "deig_three_people")
    (apply_id,) = [k for k, n in prompt.items() if n["class_type"] == "DEIG_Apply"]
    (sampler,) = [n for n in prompt.values() if n["class_type"] == "KSampler"]
    assert sampler["inputs"]["model"] == [apply_id, 0]
    sampler["inputs"]["model"] = prompt[apply_id]["inputs"]["model"]  # the model DEIG Apply would have patched
    with pytest.raises(PromptError, match="Put DEIG Apply between"):
        server.run(prompt, timeout=300)
