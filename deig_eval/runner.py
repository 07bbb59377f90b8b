"""Run every entry of a layout file (times every seed) through one or more ComfyUI servers.

One worker per server keeps one prompt in flight there. A job that meets a server that died or hangs
past the timeout goes back to the queue for the others; a job the server reports an error for is tried on
another server that has not tried it yet, and is listed as failed, with every server's error, when none is
left. A lost server is probed every ``probe_every`` s: when it answers again within ``rejoin_within`` s
(a new websocket opens, and none of the prompts the lost worker left there is still queued or running), a
new worker takes jobs there; otherwise it gets no more work. Jobs that only a lost server could still try
wait for it while its window is open. The run ends with each job either in the manifest exactly once or in
``failed.jsonl``; a rerun makes only what the manifest lacks.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ._core import LayoutEntry, dump_layout, read_layout_file
from .client import ComfyClient, PromptFailed, PromptInvalid, PromptTimeout, ServerDown, output_images
from .manifest import Manifest, job_key
from .preflight import check_resume, file_sha256, preflight, record_run
from .progress import Progress
from .workflow import Targets, is_ui_workflow, load_workflow, to_api

log = logging.getLogger(__name__)


# A job that was in flight on a server this many times when the server was lost (died or timed out)
# fails: it may be what brings servers down, or take longer than --timeout everywhere; with servers
# that rejoin it would otherwise go round for ever.
MAX_LOSSES_PER_JOB = 3


@dataclass
class Job:
    entry: LayoutEntry
    seed: int
    tried: set = field(default_factory=set)  # servers that reported an error for it
    errors: list = field(default_factory=list)  # "server: message"
    losses: int = 0  # times a server was lost with it in flight

    @property
    def key(self):
        return job_key(self.entry.entry_id, self.seed)


@dataclass
class RunConfig:
    layouts: Path
    workflow: Path
    servers: list[str]
    out_dir: Path
    seeds: list[int] = field(default_factory=lambda: [0])
    limit: int | None = None
    timeout: float = 600.0
    probe_every: float = 30.0  # seconds between two probes of a lost server
    rejoin_within: float = 600.0  # a lost server that answers again within this many seconds rejoins; 0: never
    layout_input: str | None = None
    caption_input: str | None = None
    seed_input: str | None = None
    image_node: str | None = None
    allow_other_workflow: bool = False  # resume a run folder made with another workflow

    def __post_init__(self):
        for name, least, strict in (("timeout", 0, True), ("probe_every", 0, True), ("rejoin_within", 0, False)):
            value = getattr(self, name)
            if not (value > least if strict else value >= least):  # nan fails too
                raise ValueError(f"RunConfig.{name} must be {'>' if strict else '>='} {least} seconds, not {value!r}")


class RunStopped(RuntimeError):
    """A server refused the workflow itself (validation) in the middle of a run: the run stops, what is
    made stays in the manifest, and the rest is made by a rerun once the workflow or server is fixed."""


@dataclass
class RunSummary:
    made: int = 0
    skipped: int = 0
    failed: list = field(default_factory=list)
    servers_lost: dict = field(default_factory=dict)  # url -> error (its last loss)
    servers_back: dict = field(default_factory=dict)  # url -> times it rejoined after a loss
    seconds: float = 0.0


def image_name(entry_id: str, seed: int) -> str:
    safe = re.sub(r"[^\w.-]+", "_", entry_id)[:100]
    return f"{safe}_seed{seed}.png"


class Scheduler:
    """Hands jobs to the servers' workers. A server is live (its worker takes jobs), away (lost, but it may
    rejoin: the jobs only it could still try wait for it) or gone. ``over`` is set once every job is made
    or failed."""

    def __init__(self, jobs: list[Job], servers: list[str], on_event: Callable | None = None):
        self.pending = list(jobs)
        self.in_flight = 0
        self.live = set(servers)
        self.away: set[str] = set()
        self.failed: list[Job] = []
        self.changed = asyncio.Condition()
        self.over = asyncio.Event()
        self.on_event = on_event or (lambda *a: None)
        if not self.pending:
            self.over.set()

    async def next_job(self, server: str) -> Job | None:
        async with self.changed:
            while True:
                if server not in self.live or self.over.is_set():
                    return None
                job = next((j for j in self.pending if server not in j.tried), None)
                if job is not None:
                    self.pending.remove(job)
                    self.in_flight += 1
                    return job
                await self.changed.wait()

    async def finished(self, job: Job) -> None:
        async with self.changed:
            self.in_flight -= 1
            self._update()

    async def retry(self, job: Job, server: str, error: str) -> None:
        """The server reported an error for the job: another server that has not tried it may."""
        async with self.changed:
            self._hand_back(job, server, error)
            job.tried.add(server)
            self._update()

    async def lose(self, server: str, job: Job | None = None, error: str = "") -> None:
        """The server went away (with ``job`` in flight, which goes back to the queue); it may rejoin."""
        async with self.changed:
            if job is not None:
                self._hand_back(job, server, error)
                job.losses += 1
                if job.losses >= MAX_LOSSES_PER_JOB:
                    self._fail(job)
            self.live.discard(server)
            self.away.add(server)
            self._update()

    async def readmit(self, server: str) -> None:
        async with self.changed:
            self.away.discard(server)
            self.live.add(server)
            self._update()

    async def drop(self, server: str | None = None) -> None:
        """Take a server out of service for good (all of them with ``None``); fail what nobody can try."""
        async with self.changed:
            for group in (self.live, self.away):
                if server is None:
                    group.clear()
                else:
                    group.discard(server)
            self._update()

    async def halt(self) -> None:
        """Stop handing out jobs: the pending ones stay unmade (neither made nor failed)."""
        async with self.changed:
            self.pending.clear()
            self.live.clear()
            self.away.clear()
            self.over.set()
            self.changed.notify_all()

    def _hand_back(self, job: Job, server: str, error: str) -> None:
        self.in_flight -= 1
        job.errors.append(f"{server}: {error}")
        self.pending.insert(0, job)

    def _fail(self, job: Job) -> None:
        self.pending.remove(job)
        self.failed.append(job)
        self.on_event("failed", None, job)

    def _update(self) -> None:
        """Fail the jobs that no live server, nor one that may rejoin, may still try; wake the workers."""
        for job in list(self.pending):
            if not ((self.live | self.away) - job.tried):
                self._fail(job)
        if not self.pending and self.in_flight == 0:
            self.over.set()
        self.changed.notify_all()


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


@dataclass
class _Run:
    """What every server's part of the run shares."""
    cfg: RunConfig
    api_prompt: dict
    targets: Targets
    sched: Scheduler
    manifest: Manifest
    progress: Progress
    summary: RunSummary
    stopped: str | None = None  # why the run stopped (a server refused the workflow)

    async def stop(self, why: str) -> None:
        if self.stopped is None:
            self.stopped = why
            self.progress.say(f"stopping: {why}")
        await self.sched.halt()

    async def lost(self, url: str, error: Exception, job: Job | None = None) -> None:
        self.summary.servers_lost[url] = str(error)
        window = (f"; probing it every {self.cfg.probe_every:g}s for {self.cfg.rejoin_within:g}s"
                  if self.cfg.rejoin_within > 0 else "")
        handed_back = "; its entry goes back to the queue" if job else ""
        self.progress.say(f"server {url} lost ({error}){handed_back}{window}")
        self.sched.on_event("server_lost", url, job)
        await self.sched.lose(url, job, str(error))

    async def back(self, url: str) -> None:
        self.summary.servers_back[url] = self.summary.servers_back.get(url, 0) + 1
        self.progress.say(f"server {url} is back; it takes entries again")
        self.sched.on_event("server_back", url, None)
        await self.sched.readmit(url)

    async def gone(self, url: str) -> None:
        if self.cfg.rejoin_within > 0 and not self.sched.over.is_set():
            self.progress.say(f"server {url} did not come back within {self.cfg.rejoin_within:g}s; "
                              f"it gets no more entries")
        await self.sched.drop(url)

    async def wait_to_probe(self, lost_at: float) -> bool:
        """Sleep until a lost server's next probe; False if its rejoin window is over or the run is."""
        left = lost_at + self.cfg.rejoin_within - time.monotonic()
        return left > 0 and await self.unless_over(asyncio.sleep(min(self.cfg.probe_every, left)))

    async def unless_over(self, step) -> bool:
        """Await ``step`` (a probe, or the sleep before one) unless the run ends first: then it is cancelled
        and False returned, so the run never waits for a lost server, not even a frozen one's answer."""
        step, ending = asyncio.ensure_future(step), asyncio.ensure_future(self.sched.over.wait())
        try:
            await asyncio.wait({step, ending}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ending.cancel()
        if self.sched.over.is_set():
            step.cancel()
            await asyncio.gather(step, return_exceptions=True)
            return False
        step.result()  # raises what the step raised
        return True


async def _admit(client: ComfyClient, left_behind: set[str]) -> None:
    """Open the client's websocket; ServerDown if the server is down or still runs a prompt of ``left_behind``."""
    await client.connect()
    if busy := left_behind & await client.queued_ids():
        raise ServerDown(f"{client.url}: still runs prompt(s) {', '.join(sorted(busy))} of the lost worker")


async def _serve(url: str, run: _Run) -> None:
    """One server's part of the run: a worker while it answers. Once lost, it is probed until it answers
    again (a new client and websocket, and none of the prompts the lost worker left there still queued or
    running, so a server stuck on one is not taken back) or its rejoin window is over. The lost worker's
    job went back to the queue: whatever its old prompt makes is never recorded."""
    lost_at = None  # when it was lost; None while it works
    left_behind: set[str] = set()
    while True:
        async with ComfyClient(url) as client:
            try:
                if not await run.unless_over(_admit(client, left_behind)):
                    return
            except ServerDown as e:
                if lost_at is None:  # unreachable from the start
                    lost_at = time.monotonic()
                    await run.lost(url, e)
            else:
                if lost_at is not None:
                    await run.back(url)
                if not await _worker(url, client, run):
                    return
                lost_at, left_behind = time.monotonic(), set(client.unfinished)
        if not await run.wait_to_probe(lost_at):
            await run.gone(url)
            return


async def _worker(url: str, client: ComfyClient, run: _Run) -> bool:
    """Take jobs for ``url`` until there are none (False) or the server is lost (True: its job went back
    to the queue)."""
    sched = run.sched
    while (job := await sched.next_job(url)) is not None:
        try:
            record = await _run_one(client, run.api_prompt, run.targets, job, run.cfg, sched.on_event)
        except (ServerDown, PromptTimeout) as e:
            await run.lost(url, e, job)
            return True
        except PromptInvalid as e:
            await run.stop(f"server {url} refused the workflow for entry {job.entry.entry_id} seed {job.seed}: {e}")
            return False
        except PromptFailed as e:
            run.progress.say(f"entry {job.entry.entry_id} seed {job.seed} failed on {url}: {e}")
            await sched.retry(job, url, str(e))
            continue
        run.manifest.add(record)
        run.summary.made += 1
        sched.on_event("done", url, job, record)
        run.progress.update(ok=True)
        await sched.finished(job)
    return False


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


async def run_layout_file(cfg: RunConfig, on_event: Callable | None = None, stream=None) -> RunSummary:
    started = time.monotonic()
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    entries = list(read_layout_file(cfg.layouts).entries)[: cfg.limit]
    manifest = Manifest(cfg.out_dir)
    jobs = [Job(e, s) for e in entries for s in cfg.seeds if job_key(e.entry_id, s) not in manifest.done]
    summary = RunSummary(skipped=len(entries) * len(cfg.seeds) - len(jobs))
    if not jobs:
        (stream or sys.stderr).write(f"nothing to do: all {summary.skipped} images are in {manifest.path}\n")
        manifest.write_failed([])
        return summary
    workflow_sha256 = file_sha256(cfg.workflow)
    check_resume(cfg.out_dir, workflow_sha256, cfg.allow_other_workflow)
    api_prompt = await _api_prompt(cfg)
    targets = Targets.find(api_prompt, cfg.layout_input, cfg.caption_input, cfg.seed_input, cfg.image_node)
    versions = await preflight(list(dict.fromkeys(cfg.servers)), targets.fill(api_prompt, jobs[0].entry, jobs[0].seed))
    record_run(cfg.out_dir, {
        "workflow": str(cfg.workflow), "workflow_sha256": workflow_sha256, "layouts": str(cfg.layouts),
        "layouts_sha256": file_sha256(cfg.layouts), "comfyui_versions": versions,
        "arguments": {"seeds": cfg.seeds, "limit": cfg.limit, "timeout": cfg.timeout, "probe_every": cfg.probe_every,
                      "rejoin_within": cfg.rejoin_within, "layout_input": cfg.layout_input,
                      "caption_input": cfg.caption_input, "seed_input": cfg.seed_input,
                      "image_node": cfg.image_node, "allow_other_workflow": cfg.allow_other_workflow}})
    progress = Progress(len(jobs), stream=stream)
    progress.say(f"{len(jobs)} images to make ({summary.skipped} already in the manifest) on "
                 f"{len(cfg.servers)} server(s)")

    def event(kind, server, job, *rest):
        if kind == "failed":
            progress.update(ok=False, note=f"entry {job.entry.entry_id} failed")
        if on_event:
            on_event(kind, server, job, *rest)

    servers = list(dict.fromkeys(cfg.servers))
    sched = Scheduler(jobs, servers, event)
    run = _Run(cfg, api_prompt, targets, sched, manifest, progress, summary)
    await asyncio.gather(*(_serve(url, run) for url in servers))
    await sched.drop()  # the workers are done: whatever is still pending fails
    no_server = f"no server left ({'; '.join(summary.servers_lost.values())})"
    summary.failed = [{"entry_id": j.entry.entry_id, "seed": j.seed, "errors": j.errors or [no_server]}
                      for j in sched.failed]
    manifest.write_failed(summary.failed)
    progress.close()
    summary.seconds = time.monotonic() - started
    if run.stopped:
        raise RunStopped(f"{run.stopped}; {summary.made} image(s) made are in {manifest.path}, the rest is made by "
                         f"a rerun once the workflow or the server is fixed")
    return summary
