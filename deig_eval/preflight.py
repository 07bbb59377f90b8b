"""Before a run makes anything: every server answers, has every node the workflow uses (the pack's
``DEIG_`` nodes among them), and the workflow, filled with the first entry, validates against that server's
node definitions (``/object_info``: required inputs, links to nodes that exist, choices such as model file
names, number ranges). A problem on any server stops the run with the servers' own words, before any
entry. And the run's record ``run.json`` beside the manifest: workflow hash, pack and ComfyUI versions,
servers, arguments; resuming a run with another workflow is refused unless asked for.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from .client import ComfyClient, ServerDown

RUN_RECORD = "run.json"
PACK_ROOT = Path(__file__).resolve().parent.parent


class PreflightError(RuntimeError):
    """A server cannot run the workflow; the message names the server, the node and the input."""


def _spec_choices(spec) -> list | None:
    """The allowed values of a combo input spec (old style ``[[...], {...}]``, V3 ``["COMBO", {"options"}]``)."""
    if not isinstance(spec, (list, tuple)) or not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        return spec[1].get("options")
    return None


def prompt_problems(prompt: dict, object_info: dict) -> list[str]:
    """What stops this server from running the API ``prompt``, one line each (empty: it validates)."""
    problems = []
    for node_id, node in prompt.items():
        class_type = node.get("class_type")
        info = object_info.get(class_type)
        where = f"node {node_id} ({class_type})"
        if info is None:
            hint = " - the DEIG pack is not loaded there, or is older than this workflow" \
                if str(class_type).startswith("DEIG_") else " - a custom node pack missing there?"
            problems.append(f"{where}: no such node on this server{hint}")
            continue
        inputs = node.get("inputs", {})
        required = (info.get("input") or {}).get("required") or {}
        optional = (info.get("input") or {}).get("optional") or {}
        for name in required:
            if name not in inputs:
                problems.append(f"{where}: required input '{name}' is not set")
        for name, value in inputs.items():
            spec = required.get(name, optional.get(name))
            if isinstance(value, list):
                if len(value) == 2 and str(value[0]) not in prompt:
                    problems.append(f"{where}: input '{name}' is linked to node {value[0]}, which is not in the "
                                    f"workflow")
                continue
            if spec is None:
                continue
            choices = _spec_choices(spec)
            if choices and value not in choices:
                shown = ", ".join(map(str, choices[:5])) + (", ..." if len(choices) > 5 else "")
                problems.append(f"{where}: {name} {value!r} is not one of this server's choices ({shown or 'none'})")
                continue
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if spec[0] in ("INT", "FLOAT") and isinstance(value, (int, float)) and not isinstance(value, bool):
                if "min" in options and value < options["min"] or "max" in options and value > options["max"]:
                    problems.append(f"{where}: {name} {value} is outside {options.get('min')}..{options.get('max')}")
    return problems


async def check_server(url: str, prompt: dict) -> tuple[str | None, list[str]]:
    """(the server's ComfyUI version, its problems with ``prompt``); unreachable is a problem too."""
    try:
        async with ComfyClient(url) as client:
            stats = await client.get_json("/system_stats")
            problems = prompt_problems(prompt, await client.object_info())
    except ServerDown as e:
        return None, [f"cannot reach it ({e})"]
    return (stats.get("system") or {}).get("comfyui_version"), problems


async def preflight(servers: list[str], prompt: dict) -> dict[str, str | None]:
    """Check every server (see the module's docstring); returns each one's ComfyUI version."""
    import asyncio

    results = await asyncio.gather(*(check_server(url, prompt) for url in servers))
    failing = [(url, problems) for url, (_, problems) in zip(servers, results) if problems]
    if failing:
        raise PreflightError("the run did not start: " + "; ".join(
            f"server {url}: " + "; ".join(problems) for url, problems in failing))
    return {url: version for url, (version, _) in zip(servers, results)}


def pack_version() -> str | None:
    try:
        text = (PACK_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    return m.group(1) if m else None


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def previous_runs(out_dir: Path) -> list[dict]:
    path = Path(out_dir) / RUN_RECORD
    if not path.is_file():
        return []
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("runs", [])
    except (json.JSONDecodeError, AttributeError):
        raise PreflightError(f"{path} is not a run record; move it away or use another --out") from None


def check_resume(out_dir: Path, workflow_sha256: str, allow_other_workflow: bool) -> None:
    """Refuse to add images made by another workflow to a run folder, unless asked to."""
    runs = previous_runs(out_dir)
    if runs and runs[-1].get("workflow_sha256") != workflow_sha256 and not allow_other_workflow:
        raise PreflightError(f"{Path(out_dir)} holds a run made with another workflow ({runs[-1].get('workflow')}, "
                             f"sha256 {str(runs[-1].get('workflow_sha256'))[:12]}...): its images would mix two "
                             f"workflows. Use another --out, or --allow-other-workflow to resume anyway")


def record_run(out_dir: Path, record: dict) -> None:
    """Append this invocation to ``run.json`` (``{"runs": [...]}``, oldest first)."""
    runs = previous_runs(out_dir)
    record = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "pack_version": pack_version(),
              **record}
    (Path(out_dir) / RUN_RECORD).write_text(json.dumps({"runs": [*runs, record]}, indent=1), encoding="utf-8")
