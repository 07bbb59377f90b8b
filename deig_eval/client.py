"""A small asyncio client for one ComfyUI server's HTTP and websocket API (aiohttp).

``/prompt`` to queue, ``/ws`` for progress and completion, ``/history/{id}`` for the outputs, ``/view``
to download images, ``/interrupt`` to stop a prompt that hangs, ``/queue`` to see what the server still
runs. Failures are classified for the scheduler: :class:`ServerDown` (cannot reach it, or it went away),
:class:`PromptTimeout` (no result in time), :class:`PromptFailed` (the server reported an error).
"""
from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass

import aiohttp


class ServerDown(RuntimeError):
    """The server cannot be reached or dropped the connection."""


class PromptTimeout(RuntimeError):
    """The prompt did not finish within the timeout (the server was asked to interrupt it)."""


class PromptFailed(RuntimeError):
    """The server refused the prompt or reported an execution error; ``str()`` is its message."""


class PromptInvalid(PromptFailed):
    """The server refused the prompt itself (HTTP 400: validation); every entry would meet it."""


@dataclass(frozen=True)
class OutputImage:
    filename: str
    subfolder: str
    type: str


def _error_text(payload) -> str:
    if isinstance(payload, dict):
        err = payload.get("error")
        parts = [err.get("message", "") + (": " + err.get("details", "") if err.get("details") else "")
                 if isinstance(err, dict) else str(err or "")]
        for node_id, node_err in (payload.get("node_errors") or {}).items():
            for e in node_err.get("errors", []):
                parts.append(f"node {node_id} ({node_err.get('class_type')}): {e.get('message')}: {e.get('details')}")
        return "; ".join(p for p in parts if p) or json.dumps(payload)[:2000]
    return str(payload)[:2000]


class ComfyClient:
    """Use as ``async with ComfyClient(url) as c:``; one websocket per client."""

    def __init__(self, url: str, request_timeout: float = 60.0):
        self.url = url.rstrip("/")
        if "://" not in self.url:
            self.url = "http://" + self.url
        self.client_id = uuid.uuid4().hex
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.unfinished: set[str] = set()  # ids of prompts this client queued whose end it has not seen

    async def __aenter__(self):
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, **kw):
        try:
            async with self._session.request(method, self.url + path, **kw) as r:
                body = await r.read()
                status = r.status
                ctype = r.content_type
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError, OSError) as e:
            raise ServerDown(f"{self.url}: {type(e).__name__}: {e}") from None
        if ctype == "application/json":
            body = json.loads(body)
        return status, body

    async def get_json(self, path: str):
        status, body = await self._request("GET", path)
        if status != 200:
            raise ServerDown(f"{self.url}{path}: HTTP {status}")
        return body

    async def object_info(self) -> dict:
        return await self.get_json("/object_info")

    async def queued_ids(self) -> set[str]:
        """Ids of the prompts the server runs or has queued (anyone's)."""
        queue = await self.get_json("/queue")
        return {item[1] for key in ("queue_running", "queue_pending") for item in queue.get(key, [])}

    async def connect(self) -> None:
        """Open the websocket (before queueing, so no event is missed)."""
        ws_url = self.url.replace("http", "ws", 1) + f"/ws?clientId={self.client_id}"
        try:
            self._ws = await self._session.ws_connect(ws_url, heartbeat=20.0)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            raise ServerDown(f"{self.url}: websocket: {type(e).__name__}: {e}") from None

    async def submit(self, prompt: dict) -> str:
        status, body = await self._request("POST", "/prompt", json={"prompt": prompt, "client_id": self.client_id})
        if status == 400:
            raise PromptInvalid(f"prompt refused (HTTP 400): {_error_text(body)}")
        if status != 200 or not isinstance(body, dict) or "prompt_id" not in body:
            raise PromptFailed(f"prompt refused (HTTP {status}): {_error_text(body)}")
        self.unfinished.add(body["prompt_id"])
        return body["prompt_id"]

    async def wait(self, prompt_id: str, timeout: float) -> dict:
        """Wait for the prompt's end on the websocket; returns its /history entry."""
        try:
            await asyncio.wait_for(self._wait_socket(prompt_id), timeout)
        except asyncio.TimeoutError:
            await self.interrupt()
            raise PromptTimeout(f"{self.url}: prompt {prompt_id} gave no result within {timeout:.0f}s") from None
        self.unfinished.discard(prompt_id)
        entry = (await self.get_json(f"/history/{prompt_id}")).get(prompt_id)
        if entry is None:
            raise ServerDown(f"{self.url}: prompt {prompt_id} is not in /history after it finished")
        status = entry.get("status", {})
        if status.get("status_str") == "error":
            errors = [m[1] for m in status.get("messages", []) if m and m[0] == "execution_error"]
            text = "; ".join(f"node {e.get('node_id')} ({e.get('node_type')}): {e.get('exception_message', '').strip()}"
                             for e in errors) or "execution error"
            raise PromptFailed(text)
        return entry

    async def _wait_socket(self, prompt_id: str) -> None:
        while True:
            if self._ws is None or self._ws.closed:
                raise ServerDown(f"{self.url}: websocket closed while prompt {prompt_id} ran")
            msg = await self._ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
                            aiohttp.WSMsgType.ERROR):
                raise ServerDown(f"{self.url}: websocket closed while prompt {prompt_id} ran")
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue  # binary previews
            event = json.loads(msg.data)
            data = event.get("data") or {}
            if data.get("prompt_id") != prompt_id:
                continue
            if event.get("type") == "executing" and data.get("node") is None:
                return  # sent after the result is in /history (success, error or interrupt alike)

    async def interrupt(self) -> None:
        try:
            await self._request("POST", "/interrupt", json={})
        except ServerDown:
            pass

    async def download(self, image: OutputImage) -> bytes:
        status, body = await self._request("GET", "/view", params={
            "filename": image.filename, "subfolder": image.subfolder, "type": image.type})
        if status != 200:
            raise ServerDown(f"{self.url}/view {image.filename}: HTTP {status}")
        return body


def output_images(entry: dict, node_ids: list[str]) -> list[OutputImage]:
    """Images a /history entry lists for the given output nodes, in node order."""
    out = []
    for node_id in node_ids:
        for item in (entry.get("outputs", {}).get(node_id) or {}).get("images", []):
            out.append(OutputImage(item["filename"], item.get("subfolder", ""), item.get("type", "output")))
    return out
