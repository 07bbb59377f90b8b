"""Server routes the box editor asks before queueing (registered on the host's PromptServer):

* ``POST /deig/token_counts`` ``{"texts": [...], "t5_name": "..."}`` -> ``{"counts": [...], "max_length": 128,
  "tokenizer": "..."}``: T5 tokens per text, with the tokenizer the DEIG T5 loader would use for ``t5_name``
  (the folder's own, else the T5 tokenizer the host ships).
* ``POST /deig/missing_models`` ``{"models": [{"node", "title", "input", "value"}, ...]}`` -> ``{"missing":
  [{..., "folder", "paths"}]}``: which model files chosen in loader widgets are not on disk, and where they go.
* ``POST /deig/layout_file`` ``{"file": "name.jsonl", "node": "DEIG_LayoutFromFile"}`` -> ``{"file", "format",
  "entries"}`` or ``{"file", "error"}``: what the layout-file nodes read from a file of the input folder (asked
  by the upload button right after an upload), the error in the node's own words (a file the node cannot read
  is an answer, not a bad request).
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import OrderedDict

import folder_paths
from aiohttp import web

from ..deig_core.text_encoder import MAX_LENGTH, TOKENIZER_FILES, TextEncoderError, count_tokens, load_tokenizer
from .nodes_layout_files import NODES as LAYOUT_FILE_NODES, layout_files_in_input, read_input_layout_file
from .nodes_loaders import DEIG_FOLDER, HOST_TOKENIZER, T5_FOLDER, t5_path

log = logging.getLogger(__name__)

MAX_TEXTS = 256
MAX_TEXT_CHARS = 20000
# Loader widget name -> model folder (folder_paths name). The loaders of a DEIG graph and their kin.
# The editor asks about exactly these widgets (MODEL_INPUTS in web/js/editor/sources.js; a test holds
# the two lists equal).
INPUT_FOLDERS = {"ckpt_name": "checkpoints", "lora_name": "loras", "vae_name": "vae", "deig_name": DEIG_FOLDER,
                 "t5_name": T5_FOLDER, "control_net_name": "controlnet", "unet_name": "diffusion_models"}

# The last few tokenizers used, by folder. Requests run in executor threads: the lock makes each
# look-up-or-load one step (no two threads loading the same folder, no eviction during a move).
_tokenizers: OrderedDict[str, object] = OrderedDict()
_tokenizers_lock = threading.Lock()
MAX_TOKENIZERS = 4


def tokenizer_folder(t5_name: str | None) -> str:
    """The tokenizer folder the DEIG T5 loader uses for ``t5_name`` (see ``T5EncoderLoader.execute``)."""
    path = t5_path(t5_name) if t5_name else None
    if path and os.path.isdir(path) and any(os.path.isfile(os.path.join(path, f)) for f in TOKENIZER_FILES):
        return path
    return HOST_TOKENIZER


def _tokenizer(folder: str):
    with _tokenizers_lock:
        tok = _tokenizers.get(folder)
        if tok is None:
            tok = load_tokenizer(folder)
            _tokenizers[folder] = tok
            while len(_tokenizers) > MAX_TOKENIZERS:
                _tokenizers.popitem(last=False)
        _tokenizers.move_to_end(folder)
        return tok


def token_counts(texts: list[str], t5_name: str | None) -> dict:
    folder = tokenizer_folder(t5_name)
    tok = _tokenizer(folder)
    return {"counts": [count_tokens(tok, t) for t in texts], "max_length": MAX_LENGTH,
            "tokenizer": os.path.basename(os.path.normpath(folder))}


def _model_present(folder: str, name: str) -> bool:
    if folder == T5_FOLDER:
        return t5_path(name) is not None
    return folder_paths.get_full_path(folder, name) is not None


def missing_models(models: list[dict]) -> list[dict]:
    out = []
    for m in models:
        folder = INPUT_FOLDERS.get(m.get("input"))
        if folder is None or folder not in folder_paths.folder_names_and_paths:
            continue
        value = m.get("value")
        if isinstance(value, str) and value and _model_present(folder, value):
            continue
        out.append({**m, "value": value if isinstance(value, str) else "", "folder": folder,
                    "paths": list(folder_paths.get_folder_paths(folder))})
    return out


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _json_fields(request: web.Request, *names: str) -> list | None:
    """The named fields of the request's JSON object (None where absent); None when the body is not JSON."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return [body.get(n) if isinstance(body, dict) else None for n in names]


async def _token_counts(request: web.Request) -> web.Response:
    if (fields := await _json_fields(request, "texts", "t5_name")) is None:
        return _bad("body must be JSON")
    texts, t5_name = fields
    if not isinstance(texts, list) or len(texts) > MAX_TEXTS or not all(isinstance(t, str) for t in texts):
        return _bad(f"'texts' must be a list of at most {MAX_TEXTS} strings")
    if t5_name is not None and not isinstance(t5_name, str):
        return _bad("'t5_name' must be a string")
    texts = [t[:MAX_TEXT_CHARS] for t in texts]
    try:
        result = await asyncio.get_running_loop().run_in_executor(None, token_counts, texts, t5_name)
    except (TextEncoderError, OSError, ValueError) as e:
        log.warning("DEIG: token count unavailable: %s", e)
        return web.json_response({"error": f"no T5 tokenizer: {e}"}, status=503)
    return web.json_response(result)


async def _missing_models(request: web.Request) -> web.Response:
    if (fields := await _json_fields(request, "models")) is None:
        return _bad("body must be JSON")
    models, = fields
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        return _bad("'models' must be a list of {node, title, input, value}")
    return web.json_response({"missing": missing_models(models)})


def layout_file_summary(file: str, node_id: str | None) -> dict:
    """What a layout-file node reads from ``file``; ValueError (naming the node) when it cannot."""
    names = {n.define_schema().node_id: n.NAME for n in LAYOUT_FILE_NODES}
    node = names.get(node_id, names["DEIG_LayoutFromFile"])
    if file not in layout_files_in_input():   # only the files the node lists: no paths outside the folder
        raise ValueError(f"{node}: input 'file': {file!r} is not a .json/.jsonl file in ComfyUI's input folder")
    layout_file = read_input_layout_file(node, file)
    return {"file": file, "format": layout_file.format, "entries": len(layout_file.entries)}


async def _layout_file(request: web.Request) -> web.Response:
    if (fields := await _json_fields(request, "file", "node")) is None:
        return _bad("body must be JSON")
    file, node_id = fields
    if not isinstance(file, str) or not (node_id is None or isinstance(node_id, str)):
        return _bad("'file' must be a file name and 'node' a node id")
    try:
        summary = await asyncio.get_running_loop().run_in_executor(None, layout_file_summary, file, node_id)
    except ValueError as e:
        return web.json_response({"file": file, "error": str(e)})
    return web.json_response(summary)


def register(routes) -> None:
    """Add the pack's routes to the host's route table (PromptServer.instance.routes)."""
    routes.post("/deig/token_counts")(_token_counts)
    routes.post("/deig/missing_models")(_missing_models)
    routes.post("/deig/layout_file")(_layout_file)
