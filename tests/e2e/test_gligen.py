"""The GLIGEN baseline through a real ComfyUI server: the example workflow (synthetic SD1.5 and a
full-size random GLIGEN textbox model in the real key layout, loaded by the stock GLIGENLoader) runs, and
its boxes change the image; a MIG-Bench file runs through it with deig_eval's runner (the caption into
CLIPTextEncode); a layout GLIGEN cannot take is refused naming the node and input. 64x64, one step."""
import asyncio
import json

import numpy as np
import pytest
from PIL import Image

from comfyui_deig.deig_eval.manifest import FAILED, read_jsonl
from comfyui_deig.deig_eval.runner import RunConfig, run_layout_file
from comfyui_deig.deig_eval.workflow import set_inputs, to_api
from devkit.synthetic_layouts import mig_bench
from devkit.example_models import install_example_models
from devkit.paths import REPO_ROOT
from devkit.server import PromptError

NODE = "24"  # DEIG Layout to GLIGEN in gligen_baseline.json
CAPTION = "22"  # its CLIPTextEncode of the caption


@pytest.fixture(scope="module")
def prompt(comfy_server, models_dir):
    install_example_models(models_dir)
    workflow = json.loads((REPO_ROOT / "example_workflows" / "gligen_baseline.json").read_text())
    api = to_api(workflow, comfy_server.object_info())
    assert api[NODE]["class_type"] == "DEIG_LayoutToGLIGEN" and api[CAPTION]["class_type"] == "CLIPTextEncode"
    set_inputs(api, "EmptyLatentImage", width=64, height=64)
    set_inputs(api, "KSampler", steps=1, cfg=1.0)
    return api


def generated(server, prompt) -> np.ndarray:
    entry = server.run(prompt, timeout=900)
    files = [f for f in server.output_files(entry) if f.name.startswith("GLIGEN_") and "layout" not in f.name]
    return np.asarray(Image.open(files[0]).convert("RGB"))


def test_the_example_runs_and_its_boxes_change_the_image(comfy_server, prompt):
    with_boxes = generated(comfy_server, prompt)
    assert with_boxes.shape == (64, 64, 3)
    plain = json.loads(json.dumps(prompt))
    plain["9"]["inputs"]["positive"] = [CAPTION, 0]  # the caption alone, no GLIGEN boxes
    assert (generated(comfy_server, plain) != with_boxes).any()


def test_a_bench_runs_through_the_gligen_workflow(comfy_server, prompt, tmp_path):
    (tmp_path / "mig.json").write_text(json.dumps(mig_bench(2)))
    (tmp_path / "workflow.json").write_text(json.dumps(prompt))
    cfg = RunConfig(layouts=tmp_path / "mig.json", workflow=tmp_path / "workflow.json", servers=[comfy_server.base_url],
                    out_dir=tmp_path / "run", timeout=900, caption_input=f"{CAPTION}.text")
    summary = asyncio.run(run_layout_file(cfg))
    records = read_jsonl(cfg.out_dir / "manifest.jsonl")
    assert summary.made == 2 and not (cfg.out_dir / FAILED).exists()
    assert [r["entry_id"] for r in records] == ["100", "101"]
    assert records[1]["caption"] == mig_bench(2)["101"]["caption"]


def test_more_boxes_than_gligen_takes_is_refused_naming_node_and_input(comfy_server, prompt):
    too_many = json.loads(json.dumps(prompt))
    boxes = [{"box": [i / 31, 0.1, (i + 1) / 31, 0.9], "text": f"object {i}"} for i in range(31)]
    set_inputs(too_many, "DEIG_InstanceLayout", layout=json.dumps(boxes))
    with pytest.raises(PromptError) as err:
        comfy_server.run(too_many, timeout=300)
    assert "DEIG Layout to GLIGEN: input 'layout' has 31 instances; GLIGEN takes at most 30" in str(err.value)
