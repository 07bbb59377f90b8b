"""Layout files: every layout format the pack reads, as one list of entries.

Formats (detected from the content, not the file name):

* **editor JSON** - one layout, ``[{"box": [x1, y1, x2, y2], "text": ...}, ...]`` or
  ``{"caption": ..., "instances": [...]}`` (what the box editor and ``DEIG Layout to JSON`` write);
* **DEIG-Bench** - ``{"results": [{"image_id", "caption", "instances": [{"bbox", "description",
  "category", "eval_info"}, ...]}, ...]}`` (``deig_bench_coco.json``); entry id = ``image_id``;
* **InstDiff-Bench** - a DEIG-Bench-shaped file marked ``"benchmark": "instdiff-bench"`` (what
  ``python -m deig_eval instdiff-bench`` builds from COCO; each instance also has ``"attribute"``);
* **MIG-Bench** - an object keyed by entry id: ``{"0": {"caption": ..., "segment": [{"bbox": [x1, y1,
  x2, y2] normalised, "label": "a red carrot"}, ...], "image_id": ...}, ...}`` (``mig_bench_coco.json``);
* **JSON Lines** - one entry per line, each line any single-entry form above (an ``"id"`` field names it).

Every box goes through :func:`deig_core.layout.parse_instances`, so the rules are the editor's. An
entry keeps its source record (``raw``) for the scorers (categories, labels, attribute info).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .layout import Instance, LayoutError, bench_instances, parse_instances

FORMATS = ("layout", "deig-bench", "instdiff-bench", "mig-bench", "jsonl")


@dataclass(frozen=True)
class LayoutEntry:
    """One layout of a file: its id (unique in the file), caption, instances and source record."""
    entry_id: str
    caption: str
    instances: tuple[Instance, ...]
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class LayoutFile:
    format: str  # one of FORMATS
    entries: tuple[LayoutEntry, ...]

    def by_id(self) -> dict[str, LayoutEntry]:
        return {e.entry_id: e for e in self.entries}


def _deig_entry(entry: Any, entry_id: str, where: str) -> LayoutEntry:
    instances = bench_instances(entry, where)
    return LayoutEntry(entry_id, str(entry.get("caption", "")), tuple(instances), entry)


def _mig_entry(entry: Any, entry_id: str, where: str) -> LayoutEntry:
    if not isinstance(entry, dict) or not isinstance(entry.get("segment"), list):
        raise LayoutError(f"{where} has no 'segment' list")
    items = [{"box": seg.get("bbox"), "text": seg.get("label")} if isinstance(seg, dict) else seg
             for seg in entry["segment"]]
    return LayoutEntry(entry_id, str(entry.get("caption", "")), tuple(parse_instances(items, where)), entry)


def _single_entry(value: Any, entry_id: str, where: str) -> LayoutEntry:
    """Any one-entry form: editor list, ``{"caption", "instances"}``, a DEIG-Bench or MIG-Bench record."""
    if isinstance(value, list):
        return LayoutEntry(entry_id, "", tuple(parse_instances(value, where)), {"instances": value})
    if isinstance(value, dict):
        entry_id = str(value.get("id", value.get("entry_id", entry_id)))
        if "segment" in value:
            return _mig_entry(value, entry_id, where)
        if "instances" in value:
            return _deig_entry(value, entry_id, where)
        if "layout" in value:
            layout = value["layout"]
            layout = json.loads(layout) if isinstance(layout, str) else layout
            return LayoutEntry(entry_id, str(value.get("caption", "")),
                               tuple(parse_instances(layout, where)), value)
    raise LayoutError(f"{where} is not a layout: expected a list of boxes or an object with "
                      f"'instances', 'segment' or 'layout'")


def _unique(entries: list[LayoutEntry], where: str) -> tuple[LayoutEntry, ...]:
    seen = set()
    for e in entries:
        if e.entry_id in seen:
            raise LayoutError(f"{where}: entry id {e.entry_id!r} appears twice; ids must be unique")
        seen.add(e.entry_id)
    if not entries:
        raise LayoutError(f"{where} holds no layouts")
    return tuple(entries)


def _is_mig_bench(value: dict) -> bool:
    return bool(value) and all(isinstance(v, dict) and "segment" in v for v in value.values())


def parse_layout_document(text: str, where: str = "layout file") -> LayoutFile:
    """Parse a layout file's text (any of :data:`FORMATS`)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as first_error:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            raise LayoutError(f"{where} is not valid JSON ({first_error.msg} at line {first_error.lineno})") from None
        return LayoutFile("jsonl", _unique([_jsonl_line(line, n, where) for n, line in lines], where))
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        entries = [_deig_entry(e, str(e.get("image_id", i)) if isinstance(e, dict) else str(i),
                               f"{where}: entry {i}") for i, e in enumerate(value["results"])]
        kind = "instdiff-bench" if value.get("benchmark") == "instdiff-bench" else "deig-bench"
        return LayoutFile(kind, _unique(entries, where))
    if isinstance(value, dict) and _is_mig_bench(value):
        entries = [_mig_entry(e, str(k), f"{where}: entry {k!r}") for k, e in value.items()]
        return LayoutFile("mig-bench", _unique(entries, where))
    return LayoutFile("layout", (_single_entry(value, "0", where),))


def _jsonl_line(line: str, lineno: int, where: str) -> LayoutEntry:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as e:
        raise LayoutError(f"{where}: line {lineno} is not valid JSON ({e.msg})") from None
    return _single_entry(value, str(lineno - 1), f"{where}: line {lineno}")


def read_layout_file(path: str | Path) -> LayoutFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise LayoutError(f"cannot read layout file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise LayoutError(f"layout file {path} is not UTF-8 text") from None
    return parse_layout_document(text, where=path.name)


def entry_at(layout_file: LayoutFile, index: int) -> LayoutEntry:
    n = len(layout_file.entries)
    if not 0 <= index < n:
        raise LayoutError(f"index {index} is out of range: the file has {n} entries (0..{n - 1})")
    return layout_file.entries[index]
