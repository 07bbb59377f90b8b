"""deig_eval run's preflight and run record through a real ComfyUI server (synthetic models, 64x64, one
step): a server that lacks a model or a node, or cannot be reached, stops the run before any entry with
the problem named; a workflow the server refuses in the middle of a run (its checkpoint removed after the
first image) stops the run instead of failing every entry; run.json records the run, and resuming with
another workflow is refused unless asked for."""
import asyncio
import json
import os

import pytest

from comfyui_deig.deig_eval.manifest import FAILED, read_jsonl
from comfyui_deig.deig_eval.preflight import PreflightError
from comfyui_deig.deig_eval.runner import RunConfig, RunStopped, run_bench
from comfyui_deig.deig_eval.workflow import set_inputs, to_api
from devkit.bench_layouts import mig_bench
from devkit.example_models import install_example_models
from devkit.paths import REPO_ROOT
from devkit.server import free_port


@pytest.fixture(scope="module")
def api_prompt(comfy_server, models_dir):
    install_example_models(models_dir)
    workflow = json.loads((REPO_ROOT / "example_workflows" / "deig_three_people.json").read_text())
    prompt = to_api(workflow, comfy_server.object_info())
    set_inputs(prompt, "EmptyLatentImage", width=64, height=64)
    set_inputs(prompt, "KSampler", steps=1, cfg=1.0)
    return prompt


def write(tmp_path, prompt, n=3):
    (tmp_path / "mig.json").write_text(json.dumps(mig_bench(n)))
    (tmp_path / "workflow.json").write_text(json.dumps(prompt))
    return tmp_path / "mig.json", tmp_path / "workflow.json"


def history_size(server):
    return len(server.request("/history"))


def test_preflight_names_each_servers_problem_before_any_entry(comfy_server, api_prompt, tmp_path):
    prompt = json.loads(json.dumps(api_prompt))
    set_inputs(prompt, "CheckpointLoaderSimple", ckpt_name="no_such_checkpoint.safetensors")
    prompt["99"] = {"class_type": "DEIG_NoSuchNode", "inputs": {}}
    bench, workflow = write(tmp_path, prompt)
    nobody = f"http://127.0.0.1:{free_port()}"
    before = history_size(comfy_server)
    cfg = RunConfig(bench=bench, workflow=workflow, servers=[comfy_server.base_url, nobody], out_dir=tmp_path / "run",
                    timeout=120)
    with pytest.raises(PreflightError) as e:
        asyncio.run(run_bench(cfg))
    text = str(e.value)
    assert "ckpt_name 'no_such_checkpoint.safetensors' is not one of this server's choices" in text
    assert "node 99 (DEIG_NoSuchNode): no such node on this server - the DEIG pack is not loaded there" in text
    assert f"server {nobody}: cannot reach it" in text
    assert history_size(comfy_server) == before  # nothing was queued
    assert read_jsonl(cfg.out_dir / "manifest.jsonl") == [] and not (cfg.out_dir / "run.json").exists()


def test_a_workflow_refused_mid_run_stops_the_run(comfy_server, api_prompt, models_dir, tmp_path):
    checkpoints = models_dir / "checkpoints"
    vanishing = checkpoints / "evalbench_vanishing.safetensors"
    loader = next(k for k, n in api_prompt.items() if n["class_type"] == "CheckpointLoaderSimple")
    os.symlink((checkpoints / api_prompt[loader]["inputs"]["ckpt_name"]).resolve(), vanishing)
    prompt = json.loads(json.dumps(api_prompt))
    set_inputs(prompt, "CheckpointLoaderSimple", ckpt_name=vanishing.name)
    bench, workflow = write(tmp_path, prompt, n=3)

    def on_event(kind, server, job, *rest):  # the checkpoint goes away once the first image is made
        if kind == "done" and vanishing.is_symlink():
            vanishing.unlink()

    cfg = RunConfig(bench=bench, workflow=workflow, servers=[comfy_server.base_url], out_dir=tmp_path / "run",
                    timeout=600)
    try:
        with pytest.raises(RunStopped) as e:
            asyncio.run(run_bench(cfg, on_event=on_event))
    finally:
        if vanishing.is_symlink():
            vanishing.unlink()
    assert "refused the workflow for entry 101 seed 0" in str(e.value) and vanishing.name in str(e.value)
    assert [r["entry_id"] for r in read_jsonl(cfg.out_dir / "manifest.jsonl")] == ["100"]
    assert not (cfg.out_dir / FAILED).exists()  # the other entries are not failed: a rerun makes them
    run = json.loads((cfg.out_dir / "run.json").read_text())["runs"][-1]
    assert run["comfyui_versions"][comfy_server.base_url] and run["pack_version"]
    assert len(run["workflow_sha256"]) == 64 and run["arguments"]["seeds"] == [0]

    # resuming the folder with another workflow is refused before any server is asked ...
    set_inputs(prompt, "KSampler", steps=2)
    workflow.write_text(json.dumps(prompt))
    with pytest.raises(PreflightError, match="holds a run made with another workflow"):
        asyncio.run(run_bench(cfg))
    # ... unless asked for (the checkpoint is gone: the preflight stops it, and names why)
    cfg.allow_other_workflow = True
    with pytest.raises(PreflightError, match="ckpt_name 'evalbench_vanishing.safetensors' is not one of this"):
        asyncio.run(run_bench(cfg))
