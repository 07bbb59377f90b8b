"""deig_eval's UI-to-API conversion refuses what it does not unpack with a message that says what works
(the frontend conversion of Reroutes and Primitive nodes is compared in tests/browser/test_ui_to_api.py)."""
import pytest

from comfyui_deig.deig_eval.workflow import WorkflowError, to_api

SUBGRAPH_ID = "9a3c6c7e-1f7b-4d55-9a3e-0c1d2e3f4a5b"


def test_subgraph_workflow_is_refused_with_export_api_advice():
    workflow = {"nodes": [{"id": 1, "type": SUBGRAPH_ID, "inputs": [], "outputs": [], "widgets_values": []}],
                "links": [], "definitions": {"subgraphs": [{"id": SUBGRAPH_ID, "name": "New Subgraph", "nodes": [],
                                                            "links": [], "inputs": [], "outputs": []}]}}
    with pytest.raises(WorkflowError, match=r"subgraphs.*Export \(API\)"):
        to_api(workflow, {})


def test_reroute_without_a_source_leaves_the_input_unset():
    info = {"PreviewImage": {"input": {"required": {"images": ["IMAGE"]}}, "input_order": {"required": ["images"]}}}
    workflow = {"nodes": [{"id": 1, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": None}]},
                          {"id": 2, "type": "PreviewImage", "inputs": [{"name": "images", "type": "IMAGE", "link": 5}]}],
                "links": [[5, 1, 0, 2, 0, "IMAGE"]]}
    assert to_api(workflow, info) == {"2": {"class_type": "PreviewImage", "inputs": {}}}
