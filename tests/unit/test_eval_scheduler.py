"""deig_eval's scheduling without servers: jobs wait for a lost server while it may rejoin, fail with the
servers' errors once none can try them, go to a server that rejoined; a lost server's part of the run
(``runner._serve``) probes it until it is back or its window is over, with a stand-in client."""
import asyncio
import time

import pytest

from comfyui_deig.deig_eval import runner
from comfyui_deig.deig_eval.__main__ import main as cli
from comfyui_deig.deig_eval._core import LayoutEntry
from comfyui_deig.deig_eval.client import ServerDown
from comfyui_deig.deig_eval.progress import Progress
from comfyui_deig.deig_eval.runner import Job, RunConfig, RunSummary, Scheduler


def jobs(n):
    return [Job(LayoutEntry(str(100 + i), f"caption {i}", ()), seed=0) for i in range(n)]


def keys(job_list):
    return [j.key for j in job_list]


def test_jobs_wait_for_a_lost_server_inside_its_window_and_go_to_it_when_it_rejoins():
    async def scenario():
        events = []
        todo = jobs(2)
        sched = Scheduler(todo, ["A"], lambda kind, server, job, *rest: events.append((kind, job.key)))
        first = await sched.next_job("A")
        await sched.lose("A", first, "connection refused")
        assert keys(sched.pending) == keys(todo) and sched.failed == [] and events == []
        assert not sched.over.is_set()
        assert await sched.next_job("A") is None  # a lost server's old worker gets nothing

        await sched.readmit("A")
        again = await sched.next_job("A")
        assert again is first and first.errors == ["A: connection refused"]
        await sched.finished(again)
        await sched.finished(await sched.next_job("A"))
        assert sched.over.is_set() and sched.failed == [] and await sched.next_job("A") is None

    asyncio.run(scenario())


def test_after_the_window_the_waiting_jobs_fail_with_the_servers_errors():
    async def scenario():
        todo = jobs(3)
        sched = Scheduler(todo, ["A", "B"])
        on_a = await sched.next_job("A")
        on_b = await sched.next_job("B")
        await sched.retry(on_b, "B", "node 4: out of memory")  # B may not try it again: it waits for A
        assert await sched.next_job("B") is todo[2]
        await sched.lose("A", on_a, "websocket closed")
        await sched.finished(todo[2])
        assert sched.failed == [] and keys(sched.pending) == keys([on_a, on_b])
        assert await sched.next_job("B") is on_a  # B takes what A left, not what it failed
        await sched.lose("B", on_a, "prompt timeout")
        assert sched.failed == [] and not sched.over.is_set()  # both lost, both may rejoin

        await sched.drop("A")
        assert sched.failed == [on_b] and keys(sched.pending) == keys([on_a])  # B may still try on_a
        await sched.drop("B")
        assert sched.failed == [on_b, on_a] and sched.pending == [] and sched.over.is_set()
        assert on_b.errors == ["B: node 4: out of memory"]
        assert on_a.errors == ["A: websocket closed", "B: prompt timeout"]

    asyncio.run(scenario())


def test_a_live_server_with_nothing_it_may_try_waits_until_the_lost_one_is_gone():
    async def scenario():
        todo = jobs(1)
        sched = Scheduler(todo, ["A", "B"])
        await sched.lose("A")  # unreachable from the start
        refused = asyncio.Event()

        async def worker_b():
            job = await sched.next_job("B")
            await sched.retry(job, "B", "refused")
            refused.set()
            return await sched.next_job("B")  # nothing B may try: it waits while A may rejoin

        waiting_b = asyncio.create_task(worker_b())
        await refused.wait()
        assert not waiting_b.done() and sched.pending == todo and not sched.over.is_set()
        await sched.drop("A")
        assert await waiting_b is None and sched.failed == todo and sched.over.is_set()

    asyncio.run(scenario())


class StandInClient:
    """``ComfyClient``'s surface that ``_serve`` uses, for a server that is down until ``up`` is set and
    then runs the prompts in ``queue`` (those the lost worker left) until ``drained`` is set."""

    def __init__(self, server, url):
        self.server = server
        self.url = url
        self.unfinished = set()
        server.clients.append(self)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        pass

    async def connect(self):
        self.server.probes += 1
        self.server.probed.set()
        if self.server.frozen:
            await asyncio.Event().wait()
        if not self.server.up.is_set():
            raise ServerDown(f"{self.url}: connection refused")

    async def queued_ids(self):
        return set() if self.server.drained.is_set() else set(self.server.queue)


class StandInServer:
    def __init__(self):
        self.up, self.drained, self.probed = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.queue = {"old-prompt"}
        self.probes = 0
        self.frozen = False
        self.clients = []


def serve_run(monkeypatch, todo, server, probe_every, rejoin_within, others=()):
    """A ``_Run`` of ``todo`` on a stand-in server at "S" (and ``others`` the test plays itself); a job's
    prompt on "S" ends at once, but the first client's: the server goes down with it unfinished."""
    monkeypatch.setattr(runner, "ComfyClient", lambda url: StandInClient(server, url))

    async def run_one(client, prompt, targets, job, cfg, on_event):
        if len(server.clients) == 1:  # the first worker's prompt: the server goes down with it
            server.up.clear()
            client.unfinished.add("old-prompt")
            raise ServerDown("S: websocket closed")
        return {"entry_id": job.entry.entry_id, "seed": job.seed, "client": server.clients.index(client)}

    monkeypatch.setattr(runner, "_run_one", run_one)
    records = []
    manifest = type("Manifest", (), {"add": lambda self, record: records.append(record)})()
    servers = ["S", *others]
    cfg = RunConfig(layouts=None, workflow=None, servers=servers, out_dir=None, probe_every=probe_every,
                    rejoin_within=rejoin_within)
    run = runner._Run(cfg, {}, None, Scheduler(todo, servers), manifest, Progress(len(todo), stream=_Null()),
                      RunSummary())
    return run, records


class _Null:
    def write(self, text):
        pass

    def flush(self):
        pass


def test_a_lost_server_rejoins_once_the_prompt_it_was_left_is_gone(monkeypatch):
    async def scenario():
        server = StandInServer()
        server.up.set()
        todo = jobs(3)
        run, records = serve_run(monkeypatch, todo, server, probe_every=0.01, rejoin_within=600)
        serving = asyncio.create_task(runner._serve("S", run))
        await server.probed.wait()
        server.probed.clear()
        await server.probed.wait()  # probed while it is down: refused
        server.up.set()
        server.probed.clear()
        await server.probed.wait()  # up, but still running the old prompt: not back yet
        clients_before = len(server.clients)
        server.drained.set()
        await serving
        assert run.summary.servers_back == {"S": 1} and run.summary.servers_lost == {"S": "S: websocket closed"}
        assert sorted(r["entry_id"] for r in records) == ["100", "101", "102"]
        assert {r["client"] for r in records} == {clients_before}  # the first client once the old prompt ended
        assert run.sched.failed == [] and run.sched.over.is_set()

    asyncio.run(scenario())


def test_a_server_still_down_after_its_window_is_dropped_and_its_jobs_fail(monkeypatch):
    async def scenario():
        server = StandInServer()
        todo = jobs(2)
        run, records = serve_run(monkeypatch, todo, server, probe_every=0.05, rejoin_within=0.3)
        started = time.monotonic()
        await runner._serve("S", run)
        assert 0.3 <= time.monotonic() - started < 30
        assert server.probes >= 3 and records == [] and run.summary.servers_back == {}
        assert run.sched.failed == todo and run.sched.over.is_set()

    asyncio.run(scenario())


def test_without_rejoin_a_lost_server_is_dropped_at_once(monkeypatch):
    async def scenario():
        server = StandInServer()
        run, _ = serve_run(monkeypatch, jobs(2), server, probe_every=30, rejoin_within=0)
        await runner._serve("S", run)
        assert server.probes == 1 and len(run.sched.failed) == 2

    asyncio.run(scenario())


@pytest.mark.parametrize("frozen", [False, True], ids=["waiting-to-probe", "probe-unanswered"])
def test_the_run_ends_at_once_while_a_lost_server_is_waited_for(monkeypatch, frozen):
    async def scenario():
        server = StandInServer()
        server.frozen = frozen  # its websocket handshake never answers
        run, _ = serve_run(monkeypatch, jobs(1), server, probe_every=600, rejoin_within=600, others=["B"])
        serving = asyncio.create_task(runner._serve("S", run))
        await server.probed.wait()
        if not frozen:  # refused: lost, the next probe in 600 s
            async with run.sched.changed:
                await run.sched.changed.wait_for(lambda: "S" in run.sched.away)
        await run.sched.finished(await run.sched.next_job("B"))
        await asyncio.wait_for(serving, 30)  # not the 600 s to the next probe, nor a hung probe's time
        assert run.sched.failed == [] and run.sched.over.is_set()

    asyncio.run(scenario())


@pytest.mark.parametrize("args, message", [
    (["--probe-every", "0"], "--probe-every: '0': give a number of seconds > 0"),
    (["--rejoin-within", "-1"], "--rejoin-within: '-1': give a number of seconds >= 0"),
    (["--rejoin-within", "soon"], "--rejoin-within: 'soon'"),
])
def test_cli_checks_the_probe_and_rejoin_seconds(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli(["run", "--layouts", "b.json", "--workflow", "w.json", "--server", "http://h:1", "--out", "o", *args])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_cli_help_names_the_probe_and_rejoin_options(capsys):
    with pytest.raises(SystemExit):
        cli(["run", "--help"])
    out = capsys.readouterr().out
    assert "--probe-every" in out and "--rejoin-within" in out and "0: never" in out


def test_a_job_in_flight_on_three_lost_servers_fails_instead_of_going_round_for_ever():
    async def scenario():
        todo = jobs(2)
        sched = Scheduler(todo, ["A"])
        culprit = await sched.next_job("A")
        for n in range(1, runner.MAX_LOSSES_PER_JOB + 1):   # e.g. it takes longer than --timeout every time
            await sched.lose("A", culprit, f"prompt timeout {n}")
            assert (culprit in sched.failed) is (n == runner.MAX_LOSSES_PER_JOB)
            await sched.readmit("A")
            if n < runner.MAX_LOSSES_PER_JOB:
                assert await sched.next_job("A") is culprit
        assert culprit.errors == [f"A: prompt timeout {n}" for n in (1, 2, 3)]
        other = await sched.next_job("A")  # the rest of the run goes on
        assert other is todo[1]
        await sched.finished(other)
        assert sched.over.is_set() and sched.failed == [culprit]

    asyncio.run(scenario())


@pytest.mark.parametrize("field,value", [("timeout", 0), ("probe_every", 0), ("probe_every", float("nan")),
                                         ("rejoin_within", -1)])
def test_run_config_refuses_seconds_that_cannot_work(field, value, tmp_path):
    with pytest.raises(ValueError, match=f"RunConfig.{field} must be"):
        RunConfig(layouts=tmp_path / "b.json", workflow=tmp_path / "w.json", servers=["http://x"],
                  out_dir=tmp_path, **{field: value})


def test_manifest_reading_drops_a_last_line_cut_short_and_refuses_a_broken_one_before(tmp_path):
    from comfyui_deig.deig_eval.manifest import read_jsonl

    path = tmp_path / "manifest.jsonl"
    path.write_text('{"entry_id": "1", "seed": 0}\n{"entry_id": "2", "se')   # killed while writing line 2
    assert read_jsonl(path) == [{"entry_id": "1", "seed": 0}]
    path.write_text('{"entry_id": "1", "se\n{"entry_id": "2", "seed": 0}\n')
    with pytest.raises(ValueError, match="line 1 is not JSON"):
        read_jsonl(path)
