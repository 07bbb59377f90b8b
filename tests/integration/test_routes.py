"""The pack's server routes the box editor asks: token counts with the tokenizer the T5 loader would use,
and the model files a graph's loaders name that are missing (with their folders). Real folder_paths,
real tokenizer files; the routes over HTTP are exercised by the browser tests against a real server."""
import json
import os
import shutil
import subprocess
import threading

import pytest

pytestmark = pytest.mark.integration

import folder_paths  # noqa: E402  (a missing host fails here: tests/conftest.py puts it on sys.path)

from comfyui_deig.deig_core.text_encoder import load_t5_encoder, load_tokenizer  # noqa: E402
from comfyui_deig.nodes import routes  # noqa: E402
from comfyui_deig.nodes.nodes_loaders import HOST_TOKENIZER  # noqa: E402
from devkit.paths import REPO_ROOT  # noqa: E402
from devkit.synthetic_models import t5_encoder_dir  # noqa: E402


def test_token_counts_use_the_loaders_tokenizer(model_dirs):
    t5 = t5_encoder_dir()
    os.symlink(t5, model_dirs / "text_encoders" / "my-t5")
    texts = ["a red car", "a very long description of a bicycle " * 40]
    got = routes.token_counts(texts, "my-t5")
    enc = load_t5_encoder(str(t5))
    assert got["counts"] == [enc.token_count(t) for t in texts] and got["max_length"] == 128
    assert got["counts"][1] > 128 and got["tokenizer"] == "my-t5"
    # no such loader choice (or a single-file encoder): the T5 tokenizer the host ships, as the loader does
    host = load_tokenizer(HOST_TOKENIZER)
    fallback = routes.token_counts(texts, "missing-t5")
    assert fallback["counts"] == [len(host(t).input_ids) for t in texts] and fallback["tokenizer"] == "t5_tokenizer"


def test_the_editor_asks_about_exactly_the_loader_inputs_the_route_knows():
    assert shutil.which("node"), "node is not on PATH (make setup installs it)"
    sources = (REPO_ROOT / "web" / "js" / "editor" / "sources.js").as_uri()
    proc = subprocess.run(["node", "--input-type=module", "-e",
                           f"import {{ MODEL_INPUTS }} from '{sources}'; console.log(JSON.stringify(MODEL_INPUTS));"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout)) == sorted(routes.INPUT_FOLDERS)


def test_concurrent_token_counts_load_a_tokenizer_once(model_dirs, monkeypatch):
    """Requests run in executor threads; the tokenizer cache is one look-up-or-load step under a lock."""
    os.symlink(t5_encoder_dir(), model_dirs / "text_encoders" / "race-t5")
    folder = routes.tokenizer_folder("race-t5")
    routes._tokenizers.pop(folder, None)
    loads = []

    def counted_load(path):   # the real loader, counted
        loads.append(path)
        return load_tokenizer(path)

    monkeypatch.setattr(routes, "load_tokenizer", counted_load)
    start = threading.Barrier(6)
    results, errors = [], []

    def ask():
        start.wait()
        try:
            results.append(routes.token_counts(["a red car"], "race-t5")["counts"])
        except Exception as e:   # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and len(results) == 6 and len({json.dumps(r) for r in results}) == 1
    assert loads == [folder]
    assert len(routes._tokenizers) <= routes.MAX_TOKENIZERS


def test_missing_models_lists_each_file_with_its_folder(model_dirs):
    (model_dirs / "checkpoints" / "present.safetensors").write_bytes(b"x")
    os.makedirs(model_dirs / "text_encoders" / "flan-t5-xl")
    asked = [
        {"node": 1, "title": "Load Checkpoint", "input": "ckpt_name", "value": "present.safetensors"},
        {"node": 2, "title": "Load Checkpoint", "input": "ckpt_name", "value": "v1-5.safetensors"},
        {"node": 3, "title": "DEIG Model Loader", "input": "deig_name", "value": "deig.safetensors"},
        {"node": 4, "title": "DEIG T5 Encoder Loader", "input": "t5_name", "value": "flan-t5-xl"},
        {"node": 5, "title": "DEIG T5 Encoder Loader", "input": "t5_name", "value": ""},
        {"node": 6, "title": "Some node", "input": "seed", "value": "42"},
    ]
    missing = routes.missing_models(asked)
    assert [(m["node"], m["folder"]) for m in missing] == [(2, "checkpoints"), (3, "deig"), (5, "text_encoders")]
    assert missing[0]["paths"] == [str(model_dirs / "checkpoints")]
    assert missing[1]["paths"] == [str(model_dirs / "deig")] and missing[2]["value"] == ""


@pytest.fixture
def input_dir(tmp_path):
    """An empty ComfyUI input folder for this test only."""
    saved = folder_paths.get_input_directory()
    folder_paths.set_input_directory(str(tmp_path / "input"))
    os.makedirs(tmp_path / "input")
    yield tmp_path / "input"
    folder_paths.set_input_directory(saved)


def test_layout_file_summary_reports_what_the_node_reads(input_dir):
    (input_dir / "three.jsonl").write_text("\n".join(
        '{"caption": "c%d", "instances": [{"box": [0.1, 0.1, 0.5, 0.5], "text": "a cat"}]}' % i for i in range(3)))
    (input_dir / "broken.json").write_text('{"results": [{"caption": "x", "instances": [{"bbox": [0.5, 0.1, 0.2, 0.3]}]}]}')
    (tmp := input_dir.parent / "outside.json").write_text("[]")

    assert routes.layout_file_summary("three.jsonl", "DEIG_LayoutsFromFile") == {
        "file": "three.jsonl", "format": "jsonl", "entries": 3}
    with pytest.raises(ValueError) as bad:
        routes.layout_file_summary("broken.json", "DEIG_LayoutsFromFile")
    assert str(bad.value).startswith("DEIG Layouts from File (all): input 'file': broken.json: entry 0")
    # only files the node lists: no path outside the input folder, even one that exists
    for name in ("../outside.json", str(tmp), "missing.json"):
        with pytest.raises(ValueError, match="not a .json/.jsonl file in ComfyUI's input folder"):
            routes.layout_file_summary(name, "DEIG_LayoutFromFile")
