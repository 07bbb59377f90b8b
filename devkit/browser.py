"""Run a Node script that drives the system Chromium with playwright-core (see ``devkit/js/driver.mjs``).

A script is called as ``node SCRIPT BASE_URL ARTIFACTS_DIR [ARGS...]`` and prints one JSON object as
its last stdout line; ``driver.mjs``'s ``runBrowser`` does that and adds the page's console errors.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from . import paths
from .server import die_with_parent

CHROMIUM = Path(os.environ.get("DEIG_CHROMIUM", "/usr/bin/chromium"))
NODE_MODULES = paths.REPO_ROOT / "node_modules" / "playwright-core"


class BrowserScriptError(RuntimeError):
    pass


def browser_missing() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} missing (make setup installs the chromium package)"
    if shutil.which("node") is None:
        return "node missing"
    if not NODE_MODULES.is_dir():
        return "node_modules/playwright-core missing (make setup runs npm ci)"
    return None


def run_browser_script(script_path, base_url: str, artifacts_dir, timeout: float = 180.0,
                       args: tuple[str, ...] = ()) -> dict:
    """Run ``script_path`` under node; return the JSON object it printed last.

    Raises BrowserScriptError (with the script's stderr and stdout tail) when it exits non-zero,
    times out, or prints no JSON. The result of a ``driver.mjs`` script has ``consoleErrors`` and
    ``pageErrors`` lists besides what the script returned.
    """
    artifacts_dir = Path(artifacts_dir)
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    cmd = ["node", str(script_path), base_url, str(artifacts_dir), *args]
    env = dict(os.environ, DEIG_CHROMIUM=str(CHROMIUM))
    proc = subprocess.Popen(cmd, cwd=paths.REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=die_with_parent)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)  # node and the Chromium it started
        stdout, stderr = proc.communicate()
        raise BrowserScriptError(f"{script_path} timed out after {timeout}s\nstderr:\n{_tail(stderr)}\n"
                                 f"stdout:\n{_tail(stdout)}") from None
    finally:
        _kill_group(proc.pid)  # whatever Chromium processes outlived node
    (artifacts_dir / "node-stdout.txt").write_text(stdout)
    (artifacts_dir / "node-stderr.txt").write_text(stderr)
    result = _last_json(stdout)
    if proc.returncode != 0 or result is None:
        raise BrowserScriptError(f"{script_path} exited {proc.returncode}\nstderr:\n{_tail(stderr)}\n"
                                 f"stdout:\n{_tail(stdout)}")
    return result


# Console errors the stock frontend (1.32.9 on ComfyUI 0.3.75) logs on every load, with or without this pack.
_BENIGN_SAME_ORIGIN_404 = re.compile(
    r"^/(user\.css|favicon\.ico|api/userdata/user\.css|api/userdata/comfy\.templates\.json"
    r"|api/userdata\?dir=(workflows|subgraphs)\b.*)$")
_FRONTEND_BUG = re.compile(r"TypeError: Cannot read properties of undefined \(reading 'id'\)\s+at onChange ")
# A workflow whose loaders list downloadable models (node property "models") that are not on disk opens
# the frontend's missing-models dialog, which asks each download host for the file size: another host,
# so with no internet the fetch fails and the frontend logs this (both frontends, any pack's templates).
_OFFLINE_MODEL_SIZE = re.compile(r"^Error fetching file size: TypeError: Failed to fetch\b")

# What 1.58.1 adds when served by the 0.3.75 backend, with or without this pack: its queue and history
# panels read the job list from /api/jobs, a route 0.3.75 does not have. Each poll is a 404 for the
# request plus the frontend's own report of it ("[Jobs API] Error fetching jobs: ..." and "Failed to
# fetch queue: ..."), both naming JobsApiError and the 404. Any other status, path or error still fails.
_NEW_FRONTEND_MISSING_ROUTES = re.compile(r"^/api/jobs(\?.*)?$")
_NEW_FRONTEND_JOBS_404 = re.compile(r"JobsApiError: Failed to fetch jobs: 404\b")


def unexpected_errors(result: dict, base_url: str, frontend: str = paths.PINNED_FRONTEND) -> list:
    """The page errors and console errors of a driver result, minus the stock frontend's noise:
    its 404 probes for optional user files, requests to other hosts (no internet here), a
    TypeError the 1.32.9 frontend logs at start-up (it sets a render-mode setting before defining it),
    the missing-models dialog's failed size lookups at download hosts (no internet here),
    and on 1.58.1 the 404s of the routes it expects from a newer backend."""
    base_url = base_url.rstrip("/")
    kept = []
    for err in result.get("consoleErrors", []):
        url, text = err.get("url", ""), err.get("text", "")
        path = url[len(base_url):] if url.startswith(base_url) else None
        if path is not None and "status of 404" in text and _BENIGN_SAME_ORIGIN_404.match(path):
            continue
        if frontend == paths.NEW_FRONTEND and (
                (path is not None and "status of 404" in text and _NEW_FRONTEND_MISSING_ROUTES.match(path))
                or _NEW_FRONTEND_JOBS_404.search(text)):
            continue
        if url and not url.startswith(base_url) and "net::ERR_" in text:
            continue
        if _FRONTEND_BUG.search(text) or _OFFLINE_MODEL_SIZE.search(text):
            continue
        kept.append(err)
    return kept + list(result.get("pageErrors", []))


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _last_json(stdout: str):
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def _tail(text, n: int = 60) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").splitlines()[-n:])


def pack_url(server) -> str:
    """The URL path the frontend serves the pack's web files under on ``server``."""
    return f"/extensions/{server.pack_folder}/"


def pack_errors(result: dict, server) -> list:
    """Console errors, uncaught page errors, failed requests and deprecation warnings that come from
    this pack's files (its URL in the source or stack, or the editor's log tag); then every other
    console error the stock frontend does not log anyway (devkit.browser.unexpected_errors).
    Not counted: the frontend's own lookups of node names on the (unreachable) Comfy registry."""
    url = pack_url(server)

    def mine(text: str) -> bool:
        return url in (text or "") or "[DEIG box editor]" in (text or "")

    pack = ([e for e in result["consoleErrors"] if mine(e.get("url")) or mine(e.get("text"))]
            + [e for e in result["pageErrors"] if mine(e)]
            + [r for r in result["requestFailures"] if mine(r.get("url"))]
            + [d for d in result.get("deprecations", []) if mine(d.get("stack"))])
    return pack + [e for e in unexpected_errors(result, server.base_url, server.frontend) if e not in pack]
