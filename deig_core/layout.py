"""Instance layouts: the JSON the box editor writes and the encode node reads.

Canonical form (what the web widget stores, what workflows share)::

    [{"box": [x1, y1, x2, y2], "text": "a woman in a white shirt ..."}, ...]

Coordinates are normalised to the image (0..1, origin top-left, x to the right). Parsing rules,
shared by every entry point (widget value, DEIG-Bench import, tests):

* a box must have four finite numbers with x2 > x1 and y2 > y1, each side at least 1e-4;
* coordinates slightly outside the image are clamped to [0, 1] (the editor can overshoot a border by
  rounding); a box that lies entirely outside, or has no area after clamping, is an error;
* the description must be a non-empty string (an empty box carries no instance to generate);
* any number of instances is accepted; DEIG was trained with up to 30 (see ``TRAINED_MAX_INSTANCES``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable

TRAINED_MAX_INSTANCES = 30
MIN_BOX_SIDE = 1e-4  # normalised; smaller boxes have no area at any resolution (and would not survive JSON rounding)


class LayoutError(ValueError):
    """A layout value that cannot be used; the message names the instance and field to fix."""


@dataclass(frozen=True)
class Instance:
    box: tuple[float, float, float, float]
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"box": [round(v, 6) for v in self.box], "text": self.text}


def _parse_box(raw: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        raise LayoutError(f"{where}: 'box' must be a list of four numbers [x1, y1, x2, y2], got {raw!r}")
    vals = []
    for name, v in zip(("x1", "y1", "x2", "y2"), raw):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise LayoutError(f"{where}: {name} must be a number, got {v!r}")
        try:
            f = float(v)
        except OverflowError:  # an int beyond float range
            raise LayoutError(f"{where}: {name} is a {len(str(abs(v)))}-digit integer; coordinates must be "
                              "finite numbers in 0..1") from None
        if not math.isfinite(f):
            raise LayoutError(f"{where}: {name} is {v}; coordinates must be finite numbers in 0..1")
        vals.append(f)
    x1, y1, x2, y2 = vals
    if x2 <= x1 or y2 <= y1:
        raise LayoutError(f"{where}: box {vals} needs x2 > x1 and y2 > y1 (normalised x1, y1, x2, y2)")
    cx1, cy1, cx2, cy2 = (min(max(v, 0.0), 1.0) for v in vals)
    if cx2 <= cx1 or cy2 <= cy1:
        raise LayoutError(f"{where}: box {vals} lies outside the image (coordinates are normalised to 0..1)")
    if cx2 - cx1 < MIN_BOX_SIDE or cy2 - cy1 < MIN_BOX_SIDE:
        raise LayoutError(f"{where}: box {vals} has (almost) zero area inside the image; draw a larger box")
    return (cx1, cy1, cx2, cy2)


def parse_instances(items: Iterable[Any], where: str = "layout") -> list[Instance]:
    out = []
    for i, item in enumerate(items):
        at = f"{where}: instance {i + 1}"
        if not isinstance(item, dict):
            raise LayoutError(f"{at} must be an object with 'box' and 'text', got {type(item).__name__}")
        if "box" not in item:
            raise LayoutError(f"{at} has no 'box'")
        box = _parse_box(item["box"], at)
        text = item.get("text", item.get("description"))
        if not isinstance(text, str) or not text.strip():
            raise LayoutError(f"{at} has an empty description: write what this box should contain")
        out.append(Instance(box=box, text=text.strip()))
    return out


def parse_layout(value: Any, where: str = "layout") -> list[Instance]:
    """Parse the layout widget value (a JSON string, or an already decoded list)."""
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise LayoutError(f"{where} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if isinstance(value, dict) and "instances" in value:
        value = value["instances"]
    if not isinstance(value, list):
        raise LayoutError(f"{where} must be a JSON list of {{'box': [x1, y1, x2, y2], 'text': ...}}")
    return parse_instances(value, where)


def dump_layout(instances: Iterable[Instance]) -> str:
    return json.dumps([inst.to_json() for inst in instances], ensure_ascii=False)


def bench_entry(bench: Any, index: int) -> tuple[str, list[Instance]]:
    """Caption and instances of one DEIG-Bench entry (``{"results": [...]}`` or a bare list/entry)."""
    entries = bench.get("results", bench) if isinstance(bench, dict) else bench
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise LayoutError("bench JSON must be {'results': [...]} with at least one entry")
    if not 0 <= index < len(entries):
        raise LayoutError(f"bench index {index} is out of range: the file has {len(entries)} entries (0..{len(entries) - 1})")
    entry = entries[index]
    return str(entry.get("caption", "")) if isinstance(entry, dict) else "", bench_instances(entry, f"bench entry {index}")


def bench_instances(entry: Any, where: str) -> list[Instance]:
    """Instances of one DEIG-Bench record (``{"instances": [{"bbox", "description"}, ...]}``)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("instances"), list):
        raise LayoutError(f"{where} has no 'instances' list")
    items = [{"box": inst.get("bbox", inst.get("box")), "text": inst.get("description", inst.get("text"))}
             if isinstance(inst, dict) else inst for inst in entry["instances"]]
    return parse_instances(items, where)
