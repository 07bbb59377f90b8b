"""The soak run (``make soak``, and its short form in the tests): DEIG prompts with varying layouts and
sizes plus interrupts on a real server, then checks that the base model was left unpatched and how much
the server's resident memory grew. See ``scripts/soak.py`` for what is measured and why the server
runs with a fixed mmap threshold.
"""
from __future__ import annotations

import asyncio
import json
import random
import time

import aiohttp

from .example_models import CHECKPOINTS
from .paths import REPO_ROOT
from comfyui_deig.deig_eval.workflow import set_inputs, to_api

PHRASES = ["a red bicycle", "a woman in a green coat and black boots", "a white ceramic vase with blue flowers",
           "a brown dog with a red collar", "a yellow taxi", "a man in a grey suit with a striped tie",
           "a wooden chair with a woven seat", "a glass bottle of orange juice", "a black cat with green eyes",
           "a child in a purple raincoat", "a silver laptop", "a bowl of ripe strawberries"]
MAX_RSS_GROWTH_MB = 50.0
FIXED_MMAP_THRESHOLD = {"MALLOC_MMAP_THRESHOLD_": str(64 << 10)}
WIDTHS, HEIGHTS = (64, 72, 96, 128), (64, 80, 96, 128)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def random_layout(rng: random.Random, n: int | None = None) -> str:
    n = n or rng.choice([1, 2, 3, 5, 8, 12, 40])
    items = []
    for _ in range(n):
        x1, y1 = rng.uniform(0, 0.8), rng.uniform(0, 0.8)
        items.append({"box": [round(x1, 4), round(y1, 4), round(min(1, x1 + rng.uniform(0.05, 0.5)), 4),
                              round(min(1, y1 + rng.uniform(0.05, 0.5)), 4)], "text": rng.choice(PHRASES)})
    return json.dumps(items)


def plain_prompt(seed: int = 7) -> dict:
    ckpt = CHECKPOINTS[0]
    return {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
            "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red bicycle", "clip": ["1", 1]}},
            "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
            "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
            "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
                                                       "latent_image": ["4", 0], "seed": seed, "steps": 2, "cfg": 5.0,
                                                       "sampler_name": "euler", "scheduler": "normal",
                                                       "denoise": 1.0}},
            "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
            "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "plain"}}}


def plain_pixels(server) -> bytes:
    from PIL import Image

    (path,) = server.output_files(server.run(plain_prompt(), timeout=600))
    return Image.open(path).tobytes()


def outcome(entry: dict) -> str:
    status = entry.get("status", {})
    if status.get("status_str") == "success":
        return "completed"
    kinds = [m[0] for m in status.get("messages", [])]
    return "cancelled" if "execution_interrupted" in kinds else "failed"


def _sampler_node(prompt: dict) -> str:
    return next(k for k, n in prompt.items() if n["class_type"] == "KSampler")


async def _run_interrupting(server, prompts: list[dict], targets: list[int], deadline: float) -> tuple[list[str], int]:
    """Queue ``prompts`` and interrupt each target while it samples: on the server's own websocket event
    saying it started executing the target's KSampler (the host then stops at the next step or node).
    Returns the prompt ids and how many interrupts were sent."""
    ws_url = server.base_url.replace("http", "ws", 1) + f"/ws?clientId={server.client_id}"
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:  # before queueing
        ids = [server.submit(p) for p in prompts]
        waiting = {ids[t]: _sampler_node(prompts[t]) for t in targets}
        sent = 0
        while waiting:
            msg = await asyncio.wait_for(ws.receive(), max(1.0, deadline - time.monotonic()))
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    raise RuntimeError(f"the server's websocket closed:\n{server.log_tail()}")
                continue  # binary previews
            event = json.loads(msg.data)
            data = event.get("data") or {}
            pid = data.get("prompt_id")
            if pid not in waiting or event.get("type") != "executing":
                continue
            if data.get("node") == waiting[pid]:
                server.request("/interrupt", {"prompt_id": pid})
                sent += 1
                del waiting[pid]
            elif data.get("node") is None:  # it ended before sampling: nothing to interrupt
                del waiting[pid]
    return ids, sent


def soak(server, prompts: int, interrupts: int, seed: int = 0, log=print) -> dict:
    rng = random.Random(seed)
    base = to_api(json.loads((REPO_ROOT / "example_workflows" / "deig_three_people.json").read_text()), server.object_info())

    def deig_prompt(i: int, size=None, instances=None) -> dict:
        p = json.loads(json.dumps(base))
        w, h = size or (rng.choice(WIDTHS), rng.choice(HEIGHTS))
        set_inputs(p, "EmptyLatentImage", width=w, height=h)
        set_inputs(p, "DEIG_InstanceLayout", layout=random_layout(rng, instances), width=w, height=h)
        set_inputs(p, "KSampler", steps=rng.choice([1, 2]), seed=i)
        return p

    before = plain_pixels(server)
    # warm-up: every size once, with the largest layout, so the host's per-shape caches are filled
    for i, size in enumerate((w, h) for w in WIDTHS for h in HEIGHTS):
        server.run(deig_prompt(10_000 + i, size, 40), timeout=600)
    rss_warm = rss_mb(server._proc.pid)
    prompts_to_run = [deig_prompt(i) for i in range(prompts)]
    targets = sorted(rng.sample(range(1, prompts), min(interrupts, prompts - 1)))
    deadline = time.monotonic() + 60 * 60
    ids, sent = asyncio.run(_run_interrupting(server, prompts_to_run, targets, deadline))
    entries = [server.wait(pid, timeout=max(1.0, deadline - time.monotonic()), raise_on_error=False) for pid in ids]
    counts = {"completed": 0, "cancelled": 0, "failed": 0}
    for i, entry in enumerate(entries):
        kind = outcome(entry)
        counts[kind] += 1
        if kind == "failed":
            log(f"prompt {i} failed: {json.dumps(entry.get('status'))[:1500]}")
    growth = rss_mb(server._proc.pid) - rss_warm
    if plain_pixels(server) != before:
        log("the plain workflow changed after the soak: the base model was left patched")
        counts["failed"] += 1
    return dict(counts, interrupts_sent=sent, rss_growth_mb=growth)
