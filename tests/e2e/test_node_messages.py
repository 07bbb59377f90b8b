"""Messages where users look, through a real server: a queued graph whose DEIG loader names a missing file
is refused by that loader, in words that name the file and the folder it goes in (not the host's bare
"Value not in list"); and DEIG Layouts from File's entry_id, linked to Save Image's filename_prefix,
names each saved image after the entry it came from."""
import json

import pytest

from devkit.server import PromptError

pytestmark = pytest.mark.e2e

MISSING = "deig_not_downloaded_yet.safetensors"


def _refusal(server, prompt: dict) -> dict:
    with pytest.raises(PromptError) as info:
        server.submit(prompt)
    return info.value.payload


@pytest.mark.parametrize("node_class, input_name, value, folder", [
    ("DEIG_ModelLoader", "deig_name", MISSING, "deig"),
    ("DEIG_T5Loader", "t5_name", "flan-t5-xl-not-here", "text_encoders"),
])
def test_queueing_a_missing_model_file_is_refused_by_the_loader_naming_file_and_folder(
        comfy_server, node_class, input_name, value, folder):
    prompt = {"1": {"class_type": node_class, "inputs": {input_name: value, "dtype": "auto"}},
              "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}}}
    payload = _refusal(comfy_server, prompt)
    errors = payload["node_errors"]["1"]["errors"]
    text = json.dumps(errors)
    assert [e["type"] for e in errors] == ["custom_validation_failed"], errors
    where = comfy_server.request("/deig/missing_models", {"models": [
        {"node": 1, "title": "x", "input": input_name, "value": value}]})["missing"][0]["paths"]
    assert f"input '{input_name}'" in text and value in text and where and all(p in text for p in where), text
    assert folder in text and "Value not in list" not in text


def test_entry_ids_name_the_saved_images(comfy_server):
    entries = [{"id": f"scene_{k}", "caption": f"scene {k}",
                "instances": [{"box": [0.1, 0.1, 0.6, 0.7], "text": f"a red car {k}"}]} for k in ("a", "b", "c")]
    name = "entry_names.jsonl"
    (comfy_server.input_dir / name).write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    prompt = {
        "1": {"class_type": "DEIG_LayoutsFromFile", "inputs": {"file": name, "start": 0, "count": 0}},
        "2": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
        "3": {"class_type": "DEIG_PreviewLayout", "inputs": {"image": ["2", 0], "layout": ["1", 0]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": ["1", 2]}},
    }
    files = comfy_server.output_files(comfy_server.run(prompt, timeout=300))
    assert sorted(f.name.split("_0")[0] for f in files) == ["scene_a", "scene_b", "scene_c"], files
    assert all(f.is_file() for f in files)
