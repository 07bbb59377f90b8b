"""The ComfyUI frontend loads in headless Chromium with the pack's nodes registered and no errors,
and opens every example workflow from the template route into the prompt our converter builds."""
import json
from pathlib import Path

import pytest

from devkit.example_workflows import DESCRIPTIONS, note_text
from comfyui_deig.deig_eval.workflow import to_api
from devkit.browser import unexpected_errors
from devkit.example_models import install_example_inputs

pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).with_name("ui_loads.mjs")
WORKFLOWS = Path(__file__).resolve().parents[2] / "example_workflows"


def test_frontend_loads_with_deig_nodes_and_example_workflows(comfy_server, browser, artifacts_dir):
    install_example_inputs(comfy_server.input_dir)  # the pose image the ControlNet example loads
    result = browser(SCRIPT, comfy_server.base_url, artifacts_dir, timeout=180)
    assert "DEIG_InstanceLayout" in result["deigNodes"], result
    assert result["nodeTypeCount"] > 100
    assert unexpected_errors(result, comfy_server.base_url, comfy_server.frontend) == []
    assert (artifacts_dir / "ui_loaded.png").is_file()

    templates = result["templates"]
    assert sorted(templates) == sorted(DESCRIPTIONS)
    object_info = comfy_server.object_info()
    for name, seen in templates.items():
        assert seen["note"] == note_text(name)
        ours = to_api(json.loads((WORKFLOWS / f"{name}.json").read_text()), object_info)
        frontend = {k: {f: v for f, v in node.items() if f != "_meta"} for k, node in seen["prompt"].items()}
        assert frontend == ours, name   # the frontend adds only display titles (_meta)
