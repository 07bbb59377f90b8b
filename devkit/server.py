"""A real ComfyUI server (the host's ``main.py --cpu``) with this pack, for e2e and browser tests.

The server runs from an isolated base directory (``--base-directory``): its ``custom_nodes/`` holds
only ``<pack folder> -> this repo`` (``ComfyUI-DEIG`` as cloned, or the Registry's ``deig``), ``models/`` is the tree given (synthetic models), and input,
output, temp and user folders are fresh, and so is the database. Nothing is written into the host.
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from . import paths

log = logging.getLogger(__name__)


def frontend_settings(version: str | None = None) -> dict:
    """Settings of a returning user of frontend ``version`` (default: the venv's): no template
    browser over the canvas on first load and no what's-new notice."""
    settings = {"Comfy.TutorialCompleted": True}
    try:
        settings["Comfy.InstalledVersion"] = version or importlib.metadata.version("comfyui-frontend-package")
    except importlib.metadata.PackageNotFoundError:
        pass
    return settings


class ServerError(RuntimeError):
    pass


class PromptError(RuntimeError):
    """The server refused a prompt (validation) or reported an execution error."""

    def __init__(self, message: str, payload=None):
        super().__init__(message)
        self.payload = payload


def die_with_parent() -> None:
    """preexec_fn: have Linux SIGTERM this child when the test process dies (even by SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(check, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Call ``check()`` until it returns a truthy value (returned) or ``timeout`` s pass (TimeoutError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class ComfyServer:
    """Start with :meth:`start`, always :meth:`stop` (also a context manager)."""

    def __init__(self, base_dir: Path, models_dir: Path | None = None, port: int | None = None,
                 extra_args: tuple[str, ...] = (), host_dir: Path | None = None, python: Path | None = None,
                 frontend: str = paths.PINNED_FRONTEND, pack_folder: str = paths.PACK_FOLDER):
        self.base_dir = Path(base_dir)
        self.host_dir = Path(host_dir or paths.host_dir())
        self.python = Path(python or paths.venv_python())
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.output_dir = self.base_dir / "output"
        self.input_dir = self.base_dir / "input"
        self.log_path = self.base_dir / "server.log"
        self.client_id = uuid.uuid4().hex
        self.frontend = frontend           # frontend version served (PINNED_FRONTEND: the host's default)
        self.pack_folder = pack_folder     # the pack's folder name in custom_nodes/ (git clone or Registry name)
        root = paths.frontend_root(frontend)
        if root is not None and not (root / "index.html").is_file():
            raise ServerError(f"frontend {frontend} is not installed at {root} (run make setup)")
        self.extra_args = tuple(extra_args) + (("--front-end-root", str(root)) if root is not None else ())
        self._proc: subprocess.Popen | None = None
        self._log_fh = None
        self._prepare(models_dir)

    # ------------------------------------------------------------------ lifecycle
    def _prepare(self, models_dir: Path | None) -> None:
        for sub in ("custom_nodes", "input", "output", "temp", "user"):
            (self.base_dir / sub).mkdir(parents=True, exist_ok=True)
        link = self.base_dir / "custom_nodes" / self.pack_folder
        if not link.is_symlink():
            os.symlink(paths.REPO_ROOT, link)
        settings = self.base_dir / "user" / "default" / "comfy.settings.json"
        if not settings.exists():  # a returning user: no first-run template browser over the canvas
            settings.parent.mkdir(parents=True, exist_ok=True)
            settings.write_text(json.dumps(frontend_settings(self.frontend), indent=1))
        models = self.base_dir / "models"
        if models_dir is not None and not models.exists():
            os.symlink(Path(models_dir).resolve(), models)
        models.mkdir(exist_ok=True)

    def command(self) -> list[str]:
        return [str(self.python), str(self.host_dir / "main.py"), "--cpu",
                "--listen", "127.0.0.1", "--port", str(self.port),
                "--base-directory", str(self.base_dir),
                "--database-url", f"sqlite:///{self.base_dir / 'user' / 'comfyui.db'}",
                "--disable-auto-launch", *self.extra_args]

    def start(self, timeout: float = 180.0) -> "ComfyServer":
        env = dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                   DO_NOT_TRACK="1")
        env.pop("COMFYUI_PATH", None)  # the host is passed explicitly; don't let the pack re-resolve it
        self._log_fh = open(self.log_path, "ab")
        log.info("starting ComfyUI: %s", " ".join(self.command()))
        self._proc = subprocess.Popen(self.command(), cwd=self.host_dir, env=env, stdin=subprocess.DEVNULL,
                                      stdout=self._log_fh, stderr=subprocess.STDOUT, start_new_session=True,
                                      preexec_fn=die_with_parent)
        try:
            poll(self._ready, timeout, interval=0.2, what=f"ComfyUI at {self.base_url}/object_info")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if self._proc.poll() is not None:
            raise ServerError(f"ComfyUI exited with {self._proc.returncode} during start-up:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(self.base_url + "/object_info", timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the server's process group, SIGKILL it after ``grace`` s. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGCONT)  # a frozen server must run to handle SIGTERM
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def freeze(self) -> None:
        """SIGSTOP the server: it stays up but answers nothing, as a hung server does (``stop`` ends it)."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT a frozen server: it goes on where it stopped."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the server at once, as a crash would (no shutdown, no answer to anyone)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        self.stop()

    def __enter__(self):
        return self.start() if not self.running else self

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ HTTP
    def request(self, path: str, data=None, method: str | None = None, timeout: float = 30.0):
        """JSON request to the server; returns the decoded JSON (or raw bytes when not JSON)."""
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(self.base_url + path, data=body, method=method,
                                     headers={"Content-Type": "application/json"} if body else {})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def object_info(self, node: str | None = None) -> dict:
        return self.request("/object_info" + (f"/{urllib.parse.quote(node)}" if node else ""))

    def submit(self, prompt: dict) -> str:
        """Queue an API-format prompt; returns its prompt_id. Raises PromptError with node_errors on refusal."""
        try:
            resp = self.request("/prompt", {"prompt": prompt, "client_id": self.client_id})
        except urllib.error.HTTPError as e:
            payload = e.read().decode(errors="replace")
            try:
                payload = json.loads(payload)
            except ValueError:
                pass
            raise PromptError(f"prompt refused ({e.code}): {json.dumps(payload)[:4000]}", payload) from None
        return resp["prompt_id"]

    def history(self, prompt_id: str) -> dict | None:
        return self.request(f"/history/{prompt_id}").get(prompt_id)

    def wait(self, prompt_id: str, timeout: float = 300.0, raise_on_error: bool = True) -> dict:
        """Poll /history until the prompt finished; returns its history entry
        (``{"prompt", "outputs", "status", "meta"}``). Raises PromptError when execution failed."""
        def done():
            if not self.running:
                raise ServerError(f"ComfyUI died while running {prompt_id}:\n{self.log_tail()}")
            entry = self.history(prompt_id)
            return entry if entry and entry.get("status", {}).get("completed") is not None else None

        try:
            entry = poll(done, timeout, interval=0.2, what=f"prompt {prompt_id}")
        except TimeoutError:
            self.request("/interrupt", {}, method="POST")
            raise
        status = entry.get("status", {})
        if raise_on_error and status.get("status_str") == "error":
            errors = [m for m in status.get("messages", []) if m and m[0] == "execution_error"]
            raise PromptError(f"prompt {prompt_id} failed: {json.dumps(errors)[:4000]}", entry)
        return entry

    def run(self, prompt: dict, timeout: float = 300.0) -> dict:
        """submit + wait."""
        return self.wait(self.submit(prompt), timeout)

    def output_files(self, entry: dict) -> list[Path]:
        """Paths of the images/files a history entry's outputs list (type 'output' or 'temp')."""
        roots = {"output": self.output_dir, "temp": self.base_dir / "temp", "input": self.input_dir}
        paths = []
        for node_out in entry.get("outputs", {}).values():
            for items in node_out.values():
                for item in items if isinstance(items, list) else []:
                    if isinstance(item, dict) and "filename" in item:
                        root = roots.get(item.get("type", "output"), self.output_dir)
                        paths.append(root / item.get("subfolder", "") / item["filename"])
        return paths


@contextlib.contextmanager
def running_server(base_dir, models_dir, host_dir, **kwargs):
    """A started ``ComfyServer`` (``kwargs``: frontend, pack_folder, ...), stopped and its log kept
    in test-artifacts/server-logs/ on exit."""
    server = ComfyServer(base_dir, models_dir=models_dir, host_dir=host_dir, **kwargs)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        _keep_log(server)


def _keep_log(server) -> None:
    dest = paths.artifacts_dir() / "server-logs"
    dest.mkdir(parents=True, exist_ok=True)
    if server.log_path.is_file():
        (dest / f"comfy-{server.port}.log").write_bytes(server.log_path.read_bytes())
