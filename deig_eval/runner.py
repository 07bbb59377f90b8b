"""Run every entry of a layout file (times every seed) through one or more ComfyUI servers.

One worker per server keeps one prompt in flight there. A job that meets a server that died or hangs
past the timeout goes back to the queue for the others (that server gets no more work); a job the
server reports an error for is tried on another server that has not tried it yet, and is listed as
failed, with every server's error, when none is left. The run ends with each job either in the
manifest exactly once or in ``failed.jsonl``; a rerun makes only what the manifest lacks.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ._core import LayoutEntry, dump_layout, read_layout_file
from .client import ComfyClient, PromptFailed, PromptTimeout, ServerDown, output_images
from .manifest import Manifest, job_key
from .progress import Progress
from .workflow import Targets, is_ui_workflow, load_workflow, to_api

log = logging.getLogger(__name__)


@dataclass
class Job:
    entry: LayoutEntry
    seed: int
    tried: set = field(default_factory=set)  # servers that reported an error for it
    errors: list = field(default_factory=list)  # "server: message"

    @property
    def key(self):
        return job_key(self.entry.entry_id, self.seed)


@dataclass
class RunConfig:
    bench: Path
    workflow: Path
    servers: list[str]
    out_dir: Path
    seeds: list[int] = field(default_factory=lambda: [0])
    limit: int | None = None
    timeout: float = 600.0
    layout_input: str | None = None
    caption_input: str | None = None
    seed_input: str | None = None
    image_node: str | None = None


@dataclass
class RunSummary:
    made: int = 0
    skipped: int = 0
    failed: list = field(default_factory=list)
    servers_lost: dict = field(default_factory=dict)  # url -> error
    seconds: float = 0.0


def image_name(entry_id: str, seed: int) -> str:
    safe = re.sub(r"[^\w.-]+", "_", entry_id)[:100]
    return f"{safe}_seed{seed}.png"


class Scheduler:
    def __init__(self, jobs: list[Job], servers: list[str], on_event: Callable | None = None):
        self.pending = list(jobs)
        self.in_flight = 0
        self.live = set(servers)
        self.failed: list[Job] = []
        self.changed = asyncio.Condition()
        self.on_event = on_event or (lambda *a: None)

    async def next_job(self, server: str) -> Job | None:
        async with self.changed:
            while True:
                if server not in self.live:
                    return None
                job = next((j for j in self.pending if server not in j.tried), None)
                if job is not None:
                    self.pending.remove(job)
                    self.in_flight += 1
                    return job
                if not self.pending and self.in_flight == 0:
                    return None
                await self.changed.wait()

    async def finished(self, job: Job) -> None:
        async with self.changed:
            self.in_flight -= 1
            self.changed.notify_all()

    async def retry(self, job: Job, server: str, error: str, server_lost: bool) -> None:
        async with self.changed:
            self.in_flight -= 1
            job.errors.append(f"{server}: {error}")
            if server_lost:
                self.live.discard(server)
            else:
                job.tried.add(server)
            self.pending.insert(0, job)
            self._settle()
            self.changed.notify_all()

    async def drop(self, server: str | None = None) -> None:
        """Take a server out of service (all of them with ``None``); fail what nobody can try."""
        async with self.changed:
            if server is None:
                self.live.clear()
            else:
                self.live.discard(server)
            self._settle()
            self.changed.notify_all()

    def _settle(self) -> None:
        """Jobs no live server may still try are failed."""
        for job in list(self.pending):
            if not (self.live - job.tried):
                self.pending.remove(job)
                self.failed.append(job)
                self.on_event("failed", None, job)


async def _run_one(client: ComfyClient, prompt: dict, targets: Targets, job: Job, cfg: RunConfig,
                   on_event: Callable) -> dict:
    started = time.monotonic()
    prompt_id = await client.submit(targets.fill(prompt, job.entry, job.seed))
    on_event("queued", client.url, job)
    entry = await client.wait(prompt_id, cfg.timeout)
    images = output_images(entry, targets.images)
    if len(images) != 1:
        raise PromptFailed(f"expected one image from node(s) {targets.images}, got {len(images)} "
                           f"(use batch size 1, or name the node with --image-node)")
    data = await client.download(images[0])
    name = image_name(job.entry.entry_id, job.seed)
    (cfg.out_dir / "images").mkdir(parents=True, exist_ok=True)
    (cfg.out_dir / "images" / name).write_bytes(data)
    return {"entry_id": job.entry.entry_id, "seed": job.seed, "server": client.url, "prompt_id": prompt_id,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - started, 3), "file": f"images/{name}",
            "sha256": hashlib.sha256(data).hexdigest(), "caption": job.entry.caption,
            "layout": dump_layout(job.entry.instances)}


async def _worker(url: str, api_prompt: dict, targets: Targets, sched: Scheduler, manifest: Manifest,
                  progress: Progress, cfg: RunConfig, summary: RunSummary) -> None:
    async with ComfyClient(url) as client:
        try:
            await client.connect()
        except ServerDown as e:
            summary.servers_lost[url] = str(e)
            progress.say(f"server {url} is not reachable, its share goes to the others: {e}")
            await sched.drop(url)
            return
        while (job := await sched.next_job(url)) is not None:
            try:
                record = await _run_one(client, api_prompt, targets, job, cfg, sched.on_event)
            except (ServerDown, PromptTimeout) as e:
                summary.servers_lost[url] = str(e)
                progress.say(f"server {url} lost ({e}); its entries go to the others")
                sched.on_event("server_lost", url, job)
                await sched.retry(job, url, str(e), server_lost=True)
                return
            except PromptFailed as e:
                progress.say(f"entry {job.entry.entry_id} seed {job.seed} failed on {url}: {e}")
                await sched.retry(job, url, str(e), server_lost=False)
                continue
            manifest.add(record)
            summary.made += 1
            sched.on_event("done", url, job, record)
            progress.update(ok=True)
            await sched.finished(job)


async def _api_prompt(cfg: RunConfig) -> dict:
    data = load_workflow(cfg.workflow)
    if not is_ui_workflow(data):
        return data.get("prompt", data) if isinstance(data.get("prompt"), dict) else data
    errors = []
    for url in cfg.servers:
        try:
            async with ComfyClient(url) as client:
                return to_api(data, await client.object_info())
        except ServerDown as e:
            errors.append(str(e))
    raise ServerDown("no server answered /object_info to convert the UI workflow: " + "; ".join(errors))


async def run_bench(cfg: RunConfig, on_event: Callable | None = None, stream=None) -> RunSummary:
    started = time.monotonic()
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    entries = list(read_layout_file(cfg.bench).entries)[: cfg.limit]
    manifest = Manifest(cfg.out_dir)
    jobs = [Job(e, s) for e in entries for s in cfg.seeds if job_key(e.entry_id, s) not in manifest.done]
    summary = RunSummary(skipped=len(entries) * len(cfg.seeds) - len(jobs))
    progress = Progress(len(jobs), stream=stream)
    if not jobs:
        progress.say(f"nothing to do: all {summary.skipped} images are in {manifest.path}")
        manifest.write_failed([])
        return summary
    api_prompt = await _api_prompt(cfg)
    targets = Targets.find(api_prompt, cfg.layout_input, cfg.caption_input, cfg.seed_input, cfg.image_node)
    progress.say(f"{len(jobs)} images to make ({summary.skipped} already in the manifest) on "
                 f"{len(cfg.servers)} server(s)")

    def event(kind, server, job, *rest):
        if kind == "failed":
            progress.update(ok=False, note=f"entry {job.entry.entry_id} failed")
        if on_event:
            on_event(kind, server, job, *rest)

    sched = Scheduler(jobs, list(dict.fromkeys(cfg.servers)), event)
    await asyncio.gather(*(_worker(url, api_prompt, targets, sched, manifest, progress, cfg, summary)
                           for url in sched.live.copy()))
    await sched.drop()  # the workers are done: whatever is still pending fails
    no_server = f"no server left ({'; '.join(summary.servers_lost.values())})"
    summary.failed = [{"entry_id": j.entry.entry_id, "seed": j.seed, "errors": j.errors or [no_server]}
                      for j in sched.failed]
    manifest.write_failed(summary.failed)
    progress.close()
    summary.seconds = time.monotonic() - started
    return summary
