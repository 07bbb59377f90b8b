"""Instance layouts: the JSON the box editor writes and the encode node reads.

Canonical form (what the web widget stores, what workflows share)::

    [{"box": [x1, y1, x2, y2], "text": "a woman in a white shirt ..."}, ...]

Coordinates are normalised to the image (0..1, origin top-left, x to the right). Parsing rules,
shared by every entry point (widget value, DEIG-Bench import, tests):

* an instance is an object with a box (key ``box``, or ``bbox`` as in DEIG-Bench and MIG-Bench) and a
  description (key ``text``, or ``description`` / ``label`` as in DEIG-Bench / MIG-Bench);
* a box must have four finite numbers with x2 > x1 and y2 > y1, each side at least 1e-4;
* a coordinate up to ``EDGE_TOLERANCE`` (0.05, 5 % of the image side) outside 0..1 is clamped to the
  image (a box dragged or rounded past a border); one further out is an error naming the instance and
  the coordinate; a box with no area inside the image after clamping is an error;
* the description must be a non-empty string (an empty box carries no instance to generate);
* any number of instances is accepted; DEIG was trained with up to 30 (see ``TRAINED_MAX_INSTANCES``).

The box editor's reader (``web/js/editor/layout_json.js``) follows the same rules;
``tests/unit/test_layout_parity.py`` runs both on the same well-formed and malformed input.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable

TRAINED_MAX_INSTANCES = 30
MIN_BOX_SIDE = 1e-4  # normalised; smaller boxes have no area at any resolution (and would not survive JSON rounding)
EDGE_TOLERANCE = 0.05  # normalised; how far past an image edge a coordinate may lie and still be clamped
BOX_KEYS = ("box", "bbox")                     # the first present one is the box
TEXT_KEYS = ("text", "description", "label")   # the first present one is the description


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
        if not -EDGE_TOLERANCE <= f <= 1 + EDGE_TOLERANCE:
            raise LayoutError(f"{where}: {name} = {v} is outside the image: coordinates must be between 0 and 1 "
                              f"(normalised; up to {EDGE_TOLERANCE} past an edge is clamped)")
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


def _first_key(item: dict, keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if k in item), None)


def parse_instances(items: Iterable[Any], where: str = "layout") -> list[Instance]:
    out = []
    for i, item in enumerate(items):
        at = f"{where}: instance {i + 1}"
        if not isinstance(item, dict):
            raise LayoutError(f"{at} must be an object with 'box' and 'text', got {type(item).__name__}")
        box_key = _first_key(item, BOX_KEYS)
        if box_key is None:
            raise LayoutError(f"{at} has no 'box'")
        box = _parse_box(item[box_key], at)
        text_key = _first_key(item, TEXT_KEYS)
        text = item[text_key] if text_key else None
        if text is not None and not isinstance(text, str):
            raise LayoutError(f"{at}: '{text_key}' must be a string, got {type(text).__name__}")
        if not text or not text.strip():
            raise LayoutError(f"{at} has an empty description: write what this box should contain")
        out.append(Instance(box=box, text=text.strip()))
    return out


class _NotJSONNumber(ValueError):
    pass


def _refuse_constant(name: str):
    raise _NotJSONNumber(f"{name} is not a JSON number")


def decode_json(text: str, where: str) -> Any:
    """JSON text as the browser's ``JSON.parse`` reads it (no ``NaN``/``Infinity``, which Python's
    ``json`` would take), or a LayoutError "<where> is not valid JSON (...)"."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise LayoutError(f"{where} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except _NotJSONNumber as e:
        raise LayoutError(f"{where} is not valid JSON ({e})") from None


def parse_layout(value: Any, where: str = "layout") -> list[Instance]:
    """Parse the layout widget value (a JSON string, or an already decoded list)."""
    if isinstance(value, str):
        if not value.strip():
            return []
        value = decode_json(value, where)
    if isinstance(value, dict) and "instances" in value:
        value = value["instances"]
    if not isinstance(value, list):
        raise LayoutError(f"{where} must be a JSON list of {{'box': [x1, y1, x2, y2], 'text': ...}}")
    return parse_instances(value, where)


def dump_layout(instances: Iterable[Instance]) -> str:
    return json.dumps([inst.to_json() for inst in instances], ensure_ascii=False)
