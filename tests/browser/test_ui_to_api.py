"""deig_eval's UI-to-API conversion agrees with the frontend's own ("Export (API)") for a workflow with the
nodes that exist only in the frontend: Reroutes and Primitive nodes, on both frontends."""
from pathlib import Path

import pytest

from comfyui_deig.deig_eval.workflow import to_api
from devkit.browser import unexpected_errors

pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).with_name("ui_to_api.mjs")


def test_reroutes_and_primitives_convert_as_the_frontend_does(comfy_server, browser, artifacts_dir):
    result = browser(SCRIPT, comfy_server.base_url, artifacts_dir, timeout=180)
    assert unexpected_errors(result, comfy_server.base_url, comfy_server.frontend) == []
    assert result["types"].count("Reroute") == 2 and result["types"].count("PrimitiveNode") == 2
    frontend = {k: {f: v for f, v in node.items() if f != "_meta"} for k, node in result["prompt"].items()}
    ours = to_api(result["workflow"], comfy_server.object_info())
    assert ours == frontend
    sampler = next(n for n in ours.values() if n["class_type"] == "KSampler")
    encode = next(n for n in ours.values() if n["class_type"] == "DEIG_Encode")
    assert sampler["inputs"]["seed"] == 4242 and encode["inputs"]["prompt"] == "three people from a Primitive node"
    ckpt = next(k for k, n in ours.items() if n["class_type"] == "CheckpointLoaderSimple")
    assert next(n for n in ours.values() if n["class_type"] == "DEIG_Apply")["inputs"]["model"] == [ckpt, 0]
