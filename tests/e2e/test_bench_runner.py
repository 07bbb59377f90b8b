"""deig_eval's runner and the layout-file nodes through real ComfyUI servers (synthetic models, 64x64,
one step): a dozen MIG-Bench entries over two servers, one of them killed mid-run; one server killed and
started again, or frozen and resumed, which rejoins the run; the list-output graph for several entries in
one queued prompt; the preflight, a workflow refused mid-run, and run.json."""
import asyncio
import hashlib
import json
import os
import threading
from pathlib import Path

import aiohttp
import pytest

from comfyui_deig.deig_eval.manifest import FAILED, read_jsonl
from comfyui_deig.deig_eval.preflight import PreflightError
from comfyui_deig.deig_eval.runner import RunConfig, RunStopped, run_layout_file
from comfyui_deig.deig_eval.workflow import set_inputs, to_api
from devkit.synthetic_layouts import mig_bench
from devkit.example_models import install_example_models
from devkit.paths import REPO_ROOT
from devkit.server import ComfyServer, PromptError, free_port

@pytest.fixture(scope="module")
def api_prompt(comfy_server, models_dir):
    install_example_models(models_dir)
    workflow = json.loads((REPO_ROOT / "example_workflows" / "deig_three_people.json").read_text())
    prompt = to_api(workflow, comfy_server.object_info())
    set_inputs(prompt, "EmptyLatentImage", width=64, height=64)
    set_inputs(prompt, "KSampler", steps=1, cfg=1.0)  # cfg 1: no unconditional pass
    return prompt


def test_bench_over_two_servers_survives_one_dying_and_reruns_nothing(comfy_server, models_dir, api_prompt,
                                                                      tmp_path, tmp_path_factory):
    bench = tmp_path / "mig_bench.json"
    bench.write_text(json.dumps(mig_bench(12)))
    workflow = tmp_path / "workflow_api.json"
    workflow.write_text(json.dumps(api_prompt))
    doomed = ComfyServer(tmp_path_factory.mktemp("comfy-doomed"), models_dir=models_dir).start()
    queued = []

    def on_event(kind, server, job, *rest):
        # kill the second server as soon as its first prompt is queued: both servers get a job when the
        # run starts, whichever renders faster, and that prompt cannot have finished when the kill comes
        if kind == "queued":
            queued.append((server, job.entry.entry_id))
            if server == doomed.base_url and doomed.running:
                doomed.kill()

    cfg = RunConfig(layouts=bench, workflow=workflow, servers=[comfy_server.base_url, doomed.base_url],
                    out_dir=tmp_path / "run", seeds=[7], timeout=1800)  # first prompts load models on a busy box
    try:
        summary = asyncio.run(run_layout_file(cfg, on_event=on_event))
    finally:
        doomed.stop()
    records = read_jsonl(cfg.out_dir / "manifest.jsonl")
    assert summary.failed == [] and not (cfg.out_dir / FAILED).exists()
    assert sorted(r["entry_id"] for r in records) == sorted(mig_bench(12)) and summary.made == 12
    assert list(summary.servers_lost) == [doomed.base_url] and summary.servers_back == {}  # never restarted
    [lost_job] = [e for s, e in queued if s == doomed.base_url]
    by_server = {r["entry_id"]: r["server"] for r in records}
    assert by_server[lost_job] == comfy_server.base_url  # the job in flight on the dead server was handed over
    assert set(by_server.values()) == {comfy_server.base_url}
    for r in records:
        data = (cfg.out_dir / r["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha256"] and data[:8] == b"\x89PNG\r\n\x1a\n"
        assert r["seed"] == 7 and r["prompt_id"] and r["layout"] and r["caption"].startswith("a photo of")

    history_before = len(comfy_server.request("/history"))
    manifest_before = (cfg.out_dir / "manifest.jsonl").read_bytes()
    again = asyncio.run(run_layout_file(cfg))
    assert (again.made, again.skipped, again.failed) == (0, 12, [])
    assert (cfg.out_dir / "manifest.jsonl").read_bytes() == manifest_before
    assert len(comfy_server.request("/history")) == history_before


async def _upload(base_url: str, path: Path) -> str:
    form = aiohttp.FormData()
    form.add_field("image", path.read_bytes(), filename=path.name, content_type="application/json")
    form.add_field("overwrite", "true")
    async with aiohttp.ClientSession() as s, s.post(base_url + "/upload/image", data=form) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["name"]


def test_list_output_graph_runs_each_entry_in_one_prompt(comfy_server, api_prompt, tmp_path):
    bench = tmp_path / "three_layouts.jsonl"
    records = list(mig_bench(5).items())[1:4]
    bench.write_text("\n".join(json.dumps({"id": k, **v}) for k, v in records))
    name = asyncio.run(_upload(comfy_server.base_url, bench))
    assert name in comfy_server.object_info("DEIG_LayoutsFromFile")["DEIG_LayoutsFromFile"]["input"]["required"][
        "file"][1]["options"]
    prompt = json.loads(json.dumps(api_prompt))
    prompt["4"] = {"class_type": "DEIG_LayoutsFromFile",
                   "inputs": {"file": name, "start": 0, "count": 0}}
    prompt["6"]["inputs"]["prompt"] = ["4", 1]
    prompt["30"] = {"class_type": "DEIG_LayoutToJSON", "inputs": {"layout": ["4", 0]}}
    entry = comfy_server.run(prompt, timeout=900)
    assert len(entry["outputs"]["11"]["images"]) == 3
    texts = [json.loads(t) for t in entry["outputs"]["30"]["text"]]
    assert [[i["text"] for i in t] for t in texts] == [[s["label"] for s in v["segment"]] for _, v in records]


def test_layout_from_file_picks_an_entry_by_index_and_names_a_bad_one(comfy_server, tmp_path):
    bench = mig_bench(3)
    (comfy_server.input_dir / "mig_three.json").write_text(json.dumps(bench))

    def prompt(index):
        return {"1": {"class_type": "DEIG_LayoutFromFile",
                      "inputs": {"file": "mig_three.json", "index": index}},
                "2": {"class_type": "DEIG_LayoutToJSON", "inputs": {"layout": ["1", 0]}}}

    entry = comfy_server.run(prompt(2), timeout=120)
    assert [i["text"] for i in json.loads(entry["outputs"]["2"]["text"][0])] == [
        s["label"] for s in bench["102"]["segment"]]
    with pytest.raises(PromptError, match="DEIG Layout from File: input 'index'.*3 entries"):
        comfy_server.run(prompt(3), timeout=120)


def test_a_ui_workflow_naming_a_checkpoint_the_server_lacks_stops_before_any_entry(comfy_server, tmp_path):
    """A UI workflow (converted with the server's /object_info) naming a checkpoint the server lacks: the
    preflight names it, nothing is queued (was: every entry failed on every server)."""
    bench = tmp_path / "mig.json"
    bench.write_text(json.dumps(mig_bench(2)))
    broken = json.loads((REPO_ROOT / "example_workflows" / "deig_three_people.json").read_text())
    next(n for n in broken["nodes"] if n["type"] == "CheckpointLoaderSimple")["widgets_values"][0] = \
        "no_such_checkpoint.safetensors"
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    cfg = RunConfig(layouts=bench, workflow=tmp_path / "broken.json", servers=[comfy_server.base_url],
                    out_dir=tmp_path / "run", timeout=120)
    with pytest.raises(PreflightError, match=f"server {comfy_server.base_url}: .*no_such_checkpoint"):
        asyncio.run(run_layout_file(cfg))
    assert read_jsonl(cfg.out_dir / "manifest.jsonl") == [] and not (cfg.out_dir / FAILED).exists()


def test_a_server_that_hangs_past_the_timeout_hands_its_entry_to_the_other(comfy_server, models_dir, api_prompt,
                                                                           tmp_path, tmp_path_factory):
    """A real server frozen (SIGSTOP) as its first prompt is queued: it answers nothing, like a hung
    GPU; after the runner's timeout its entry runs on the other server and it gets no more work."""
    bench = tmp_path / "mig.json"
    bench.write_text(json.dumps(mig_bench(4)))
    workflow = tmp_path / "workflow_api.json"
    workflow.write_text(json.dumps(api_prompt))
    comfy_server.run(api_prompt, timeout=900)  # the healthy server has its models loaded: its prompts take seconds
    frozen = ComfyServer(tmp_path_factory.mktemp("comfy-frozen"), models_dir=models_dir).start()
    stuck = []

    def on_event(kind, server, job, *rest):
        if kind == "queued" and server == frozen.base_url and not stuck:
            stuck.append(job.entry.entry_id)
            frozen.freeze()

    cfg = RunConfig(layouts=bench, workflow=workflow, servers=[comfy_server.base_url, frozen.base_url],
                    out_dir=tmp_path / "run", seeds=[3], timeout=60)
    try:
        summary = asyncio.run(run_layout_file(cfg, on_event=on_event))
    finally:
        frozen.stop()
    records = read_jsonl(cfg.out_dir / "manifest.jsonl")
    assert summary.failed == [] and summary.made == 4 and list(summary.servers_lost) == [frozen.base_url]
    # the frozen server is dropped with a reason (its websocket stops answering, or the 60 s timeout)
    assert summary.servers_lost[frozen.base_url] and summary.servers_back == {}  # still frozen
    assert sorted(r["entry_id"] for r in records) == sorted(mig_bench(4))
    assert {r["server"] for r in records} == {comfy_server.base_url}  # the stuck entry included
    assert stuck and stuck[0] in {r["entry_id"] for r in records}


def test_a_lone_server_killed_and_restarted_mid_run_rejoins_and_the_run_completes(models_dir, api_prompt,
                                                                                  tmp_path, tmp_path_factory):
    """The only server, SIGKILLed as its second prompt is queued and started again on the same port (as
    systemd would) while the runner waits for it: the run ends with every entry made once, the one that
    was in flight and those after it by the restarted server."""
    bench = tmp_path / "mig.json"
    bench.write_text(json.dumps(mig_bench(5)))
    workflow = tmp_path / "workflow_api.json"
    workflow.write_text(json.dumps(api_prompt))
    base_dir = tmp_path_factory.mktemp("comfy-restarted")
    crashing = ComfyServer(base_dir, models_dir=models_dir).start()
    restarted, started, run_over, threads = [], threading.Event(), threading.Event(), []
    queued, events = [], []

    def restart():  # this thread owns the new server: Linux ends it when the thread that started it exits
        try:
            with ComfyServer(base_dir, models_dir=models_dir, port=crashing.port) as server:
                restarted.append(server)
                started.set()
                run_over.wait()
        finally:
            started.set()

    def on_event(kind, server, job, *rest):
        events.append((kind, server, job.entry.entry_id if job else None))
        if kind == "queued":
            queued.append(job.entry.entry_id)
            if len(queued) == 2:
                crashing.kill()
                threads.append(threading.Thread(target=restart))
                threads[0].start()

    cfg = RunConfig(layouts=bench, workflow=workflow, servers=[crashing.base_url], out_dir=tmp_path / "run",
                    seeds=[5], timeout=1800, probe_every=1, rejoin_within=600)
    try:
        summary = asyncio.run(run_layout_file(cfg, on_event=on_event))
        assert started.wait(300) and restarted, "the server did not start again"
        history = restarted[0].request("/history")
    finally:
        crashing.stop()
        run_over.set()
        for thread in threads:
            thread.join(60)
    url = crashing.base_url
    records = read_jsonl(cfg.out_dir / "manifest.jsonl")
    assert summary.failed == [] and not (cfg.out_dir / FAILED).exists() and summary.made == 5
    assert sorted(r["entry_id"] for r in records) == sorted(mig_bench(5))  # each once
    assert list(summary.servers_lost) == [url] and summary.servers_back == {url: 1}
    assert [e for e in events if e[0].startswith("server_")] == [("server_lost", url, queued[1]),
                                                                 ("server_back", url, None)]
    assert {r["server"] for r in records} == {url}
    by_restarted = {r["entry_id"] for r in records if r["prompt_id"] in history}
    assert by_restarted == set(mig_bench(5)) - {queued[0]}  # the entry in flight at the kill included


def test_a_lone_server_frozen_then_resumed_rejoins_with_a_new_websocket(models_dir, api_prompt, tmp_path,
                                                                         tmp_path_factory):
    """The only server, frozen (SIGSTOP) as its first prompt is queued and resumed (SIGCONT) once the
    runner gave up on it: the prompt it was stuck on ends there, but the entry's image in the
    manifest is from the prompt the new worker queued."""
    bench = tmp_path / "mig.json"
    bench.write_text(json.dumps(mig_bench(3)))
    workflow = tmp_path / "workflow_api.json"
    workflow.write_text(json.dumps(api_prompt))
    sleepy = ComfyServer(tmp_path_factory.mktemp("comfy-sleepy"), models_dir=models_dir).start()
    stuck, events = [], []

    def on_event(kind, server, job, *rest):
        events.append((kind, job.entry.entry_id if job else None))
        if kind == "queued" and not stuck:
            stuck.append(job.entry.entry_id)
            sleepy.freeze()
        elif kind == "server_lost":
            sleepy.thaw()

    cfg = RunConfig(layouts=bench, workflow=workflow, servers=[sleepy.base_url], out_dir=tmp_path / "run",
                    seeds=[9], timeout=60, probe_every=1, rejoin_within=600)
    try:
        sleepy.run(api_prompt, timeout=900)  # models loaded: the runner's prompts take seconds
        summary = asyncio.run(run_layout_file(cfg, on_event=on_event))
        history = sleepy.request("/history")
    finally:
        sleepy.stop()
    records = read_jsonl(cfg.out_dir / "manifest.jsonl")
    assert summary.failed == [] and summary.made == 3 and summary.servers_back == {sleepy.base_url: 1}
    assert [e for e in events if e[0].startswith("server_")] == [("server_lost", stuck[0]), ("server_back", None)]
    assert sorted(r["entry_id"] for r in records) == sorted(mig_bench(3))
    caption = mig_bench(3)[stuck[0]]["caption"]
    numbered = sorted((h["prompt"][0], pid) for pid, h in history.items() if caption in json.dumps(h["prompt"][2]))
    record = next(r for r in records if r["entry_id"] == stuck[0])
    assert len(numbered) == 2 and record["prompt_id"] == numbered[1][1]  # the stuck prompt ended, unrecorded


# --- preflight and run record: a server that lacks a model or a node, or cannot be reached, stops the run
# before any entry with the problem named; a workflow the server refuses in the middle of a run (its
# checkpoint removed after the first image) stops the run instead of failing every entry; run.json records
# the run, and resuming with another workflow is refused unless asked for.

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
    cfg = RunConfig(layouts=bench, workflow=workflow, servers=[comfy_server.base_url, nobody], out_dir=tmp_path / "run",
                    timeout=120)
    with pytest.raises(PreflightError) as e:
        asyncio.run(run_layout_file(cfg))
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

    cfg = RunConfig(layouts=bench, workflow=workflow, servers=[comfy_server.base_url], out_dir=tmp_path / "run",
                    timeout=600)
    try:
        with pytest.raises(RunStopped) as e:
            asyncio.run(run_layout_file(cfg, on_event=on_event))
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
        asyncio.run(run_layout_file(cfg))
    # ... unless asked for (the checkpoint is gone: the preflight stops it, and names why)
    cfg.allow_other_workflow = True
    with pytest.raises(PreflightError, match="ckpt_name 'evalbench_vanishing.safetensors' is not one of this"):
        asyncio.run(run_layout_file(cfg))
