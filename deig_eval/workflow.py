"""Workflows for the runner: read an API prompt or a UI workflow, find where each entry's caption,
layout and seed go, and fill them in.

UI workflows (what the editor saves) become API prompts with the server's ``/object_info`` for the
input order (:func:`to_api`), as the frontend's own "Export (API)" does: widget values are taken in the
node's input order, skipping linked inputs; an INT input declared with ``control_after_generate`` carries
one extra UI value (fixed/increment/...) that the API does not take. Nodes that live only in the frontend
are resolved away: a link through Reroute nodes comes from the node before them, an input fed by a
Primitive node gets the Primitive's value, Notes are dropped. Subgraphs are refused with a message that
says to export the workflow with "Export (API)".

Default targets: the layout goes into every ``DEIG_InstanceLayout.layout``, the caption into every
``DEIG_Encode.prompt``, the seed into every ``seed`` / ``noise_seed`` input that holds a number; images
are taken from the ``SaveImage`` nodes fed straight by a VAE decode. ``NODE_ID.input`` overrides each.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from ._core import LayoutEntry, dump_layout

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
SKIPPED_MODES = {2, 4}  # muted, bypassed
REROUTE, PRIMITIVE = "Reroute", "PrimitiveNode"
FRONTEND_ONLY = {"Note", "MarkdownNote", REROUTE, PRIMITIVE}  # nodes the frontend never sends to the server
SEED_INPUTS = ("seed", "noise_seed")
IMAGE_SAVERS = ("SaveImage",)


_NO_VALUE = object()


class WorkflowError(ValueError):
    pass


def _is_widget(spec) -> bool:
    kind = spec[0]
    return isinstance(kind, list) or kind in WIDGET_TYPES


def is_ui_workflow(data: dict) -> bool:
    return isinstance(data.get("nodes"), list) and "links" in data


def to_api(workflow: dict, object_info: dict) -> dict:
    if (workflow.get("definitions") or {}).get("subgraphs"):
        raise WorkflowError("the workflow contains subgraphs, which deig_eval does not unpack: open it in ComfyUI, "
                            "save it with Workflow > Export (API) and pass that file to --workflow")
    nodes = {node["id"]: node for node in workflow["nodes"]}
    links = {link[0]: link for link in workflow["links"]}

    def source(link_id):
        """(node, output slot) whose value the link carries, through any Reroutes; None when nothing feeds it."""
        seen = set()
        while link_id in links and link_id not in seen:
            seen.add(link_id)
            _, src, slot, *_ = links[link_id]
            node = nodes.get(src)
            if node is None or node["type"] != REROUTE:
                return (node, slot) if node is not None else None
            link_id = next((i.get("link") for i in node.get("inputs", [])), None)
        return None

    prompt = {}
    for node in workflow["nodes"]:
        if node.get("mode", 0) in SKIPPED_MODES or node["type"] in FRONTEND_ONLY:
            continue
        info = object_info.get(node["type"])
        if info is None:
            raise WorkflowError(f"node {node['id']}: type {node['type']!r} is not installed on this server")
        linked = {i["name"]: source(i["link"]) for i in node.get("inputs", []) if i.get("link") is not None}
        values = list(node.get("widgets_values") or [])
        order = info.get("input_order") or {k: list(v) for k, v in info["input"].items()}
        inputs = {}
        for section in ("required", "optional"):
            for name in order.get(section, []):
                spec = info["input"][section][name]
                widget = _is_widget(spec)
                value = values.pop(0) if widget and values else _NO_VALUE
                if widget and len(spec) > 1 and isinstance(spec[1], dict) and spec[1].get("control_after_generate"):
                    values.pop(0) if values else None
                if name not in linked:
                    if value is not _NO_VALUE:
                        inputs[name] = value
                elif linked[name] is not None:
                    src, slot = linked[name]
                    if src["type"] == PRIMITIVE:
                        inputs[name] = (src.get("widgets_values") or [None])[0]
                    else:
                        inputs[name] = [str(src["id"]), slot]
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt


def set_inputs(prompt: dict, class_type: str, **values) -> None:
    """Override widget inputs of every node of ``class_type`` (e.g. a smaller size for a quick run)."""
    for node in prompt.values():
        if node["class_type"] == class_type:
            node["inputs"].update(values)


def _parse_target(spec: str, prompt: dict, what: str) -> list[tuple[str, str]]:
    node_id, _, name = spec.partition(".")
    if not name or node_id not in prompt:
        raise WorkflowError(f"--{what}-input {spec!r}: expected NODE_ID.input with a node id of the workflow "
                            f"({', '.join(sorted(prompt))})")
    return [(node_id, name)]


@dataclass(frozen=True)
class Targets:
    layout: list[tuple[str, str]]
    caption: list[tuple[str, str]]
    seed: list[tuple[str, str]]
    images: list[str]

    @classmethod
    def find(cls, prompt: dict, layout: str | None = None, caption: str | None = None,
             seed: str | None = None, image_node: str | None = None) -> "Targets":
        def of(class_type, name):
            return [(k, name) for k, n in prompt.items() if n["class_type"] == class_type]

        t = cls(
            layout=_parse_target(layout, prompt, "layout") if layout else of("DEIG_InstanceLayout", "layout"),
            caption=_parse_target(caption, prompt, "caption") if caption else of("DEIG_Encode", "prompt"),
            seed=_parse_target(seed, prompt, "seed") if seed else [
                (k, name) for k, n in prompt.items() for name in SEED_INPUTS
                if isinstance(n["inputs"].get(name), int)],
            images=[image_node] if image_node else _decoded_image_savers(prompt),
        )
        if not t.layout:
            raise WorkflowError("the workflow has no DEIG_InstanceLayout node; name the input with --layout-input")
        if image_node and image_node not in prompt:
            raise WorkflowError(f"--image-node {image_node!r} is not a node of the workflow")
        if not t.images:
            raise WorkflowError("the workflow saves no decoded image (SaveImage fed by VAEDecode); "
                                "name the node with --image-node")
        return t

    def fill(self, prompt: dict, entry: LayoutEntry, seed: int) -> dict:
        out = copy.deepcopy(prompt)
        for node_id, name in self.layout:
            out[node_id]["inputs"][name] = dump_layout(entry.instances)
        for node_id, name in self.caption:
            out[node_id]["inputs"][name] = entry.caption
        for node_id, name in self.seed:
            out[node_id]["inputs"][name] = int(seed)
        return out


def _decoded_image_savers(prompt: dict) -> list[str]:
    out = []
    for k, n in prompt.items():
        src = n["inputs"].get("images")
        if n["class_type"] in IMAGE_SAVERS and isinstance(src, list) and "VAEDecode" in prompt.get(
                str(src[0]), {}).get("class_type", ""):
            out.append(k)
    return out


def load_workflow(path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise WorkflowError(f"cannot read workflow {path}: {e}") from None
