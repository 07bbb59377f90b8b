"""Convert a ComfyUI UI workflow (what the editor saves and the template browser loads) into an API
prompt (what POST /prompt takes), using the server's /object_info for the input order.

Widget values are taken in the node's input order, skipping linked inputs; an INT input declared with
``control_after_generate`` carries one extra UI value (fixed/increment/...) that the API does not take.
"""
from __future__ import annotations

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
SKIPPED_MODES = {2, 4}  # muted, bypassed
FRONTEND_ONLY = {"Note", "MarkdownNote"}  # nodes the editor never sends to the server


def _is_widget(spec) -> bool:
    kind = spec[0]
    return isinstance(kind, list) or kind in WIDGET_TYPES


def to_api(workflow: dict, object_info: dict) -> dict:
    links = {link[0]: link for link in workflow["links"]}
    prompt = {}
    for node in workflow["nodes"]:
        if node.get("mode", 0) in SKIPPED_MODES or node["type"] in FRONTEND_ONLY:
            continue
        info = object_info.get(node["type"])
        if info is None:
            raise ValueError(f"node {node['id']}: type {node['type']!r} is not installed on this server")
        linked = {i["name"]: links[i["link"]] for i in node.get("inputs", []) if i.get("link") is not None}
        values = list(node.get("widgets_values") or [])
        order = info.get("input_order") or {k: list(v) for k, v in info["input"].items()}
        inputs = {}
        for section in ("required", "optional"):
            for name in order.get(section, []):
                spec = info["input"][section][name]
                if name in linked:
                    _, src, slot, *_ = linked[name]
                    inputs[name] = [str(src), slot]
                    if _is_widget(spec):  # a widget converted to an input still owns its value slot
                        values.pop(0) if values else None
                elif _is_widget(spec) and values:
                    inputs[name] = values.pop(0)
                    if len(spec) > 1 and isinstance(spec[1], dict) and spec[1].get("control_after_generate"):
                        values.pop(0) if values else None
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt


def set_inputs(prompt: dict, class_type: str, **values) -> None:
    """Override widget inputs of every node of ``class_type`` (e.g. a smaller size for a quick run)."""
    for node in prompt.values():
        if node["class_type"] == class_type:
            node["inputs"].update(values)
