"""Layout files: every layout format the pack reads, as one list of entries.

Formats (detected from the content, not the file name):

* **editor JSON** (``"editor-json"``) - one layout, ``[{"box": [x1, y1, x2, y2], "text": ...}, ...]`` or
  ``{"caption": ..., "instances": [...]}`` (what the box editor and ``DEIG Layout to JSON`` write);
* **DEIG-Bench** (``"deig-bench"``) - ``{"results": [{"image_id", "caption", "instances": [{"bbox",
  "description", "category", "eval_info"}, ...]}, ...]}`` (``deig_bench_coco.json``), or a bare list of
  such records; entry id = ``image_id``, else the position;
* **InstDiff-Bench** (``"instdiff-bench"``) - a DEIG-Bench-shaped file marked ``"benchmark": "instdiff-bench"``
  (what ``python -m deig_eval instdiff-bench`` builds from COCO; each instance also has ``"attribute"``);
* **MIG-Bench** (``"mig-bench"``) - an object keyed by entry id: ``{"0": {"caption": ..., "segment": [{"bbox": [x1, y1,
  x2, y2] normalised, "label": "a red carrot"}, ...], "image_id": ...}, ...}`` (``mig_bench_coco.json``);
* **JSON Lines** (``"jsonl"``) - one entry per line, each line any single-entry form above (an ``"id"`` field names it).

This is the one reader of layout documents: the Layouts-from-File nodes, DEIG Layout from DEIG-Bench,
the upload check and ``deig_eval`` use it, and the box editor's import (``parseLayoutDocument`` in
``web/js/editor/layout_json.js``) follows it (``tests/unit/test_layout_parity.py``). Every instance goes
through :func:`deig_core.layout.parse_instances`. An entry keeps its source record (``raw``) for the
scorers (categories, labels, attribute info).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .layout import Instance, LayoutError, decode_json, parse_instances, parse_layout

FORMATS = ("editor-json", "deig-bench", "instdiff-bench", "mig-bench", "jsonl")


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


def _record_entry(entry: Any, key: str, entry_id: str, where: str) -> LayoutEntry:
    """A DEIG-Bench (``key="instances"``) or MIG-Bench (``key="segment"``) record."""
    if not isinstance(entry, dict) or not isinstance(entry.get(key), list):
        raise LayoutError(f"{where} has no {key!r} list")
    return LayoutEntry(entry_id, str(entry.get("caption", "")), tuple(parse_instances(entry[key], where)), entry)


def _is_deig_record(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("instances"), list)


def _single_entry(value: Any, entry_id: str, where: str) -> LayoutEntry:
    """Any one-entry form: editor list, ``{"caption", "instances"}``, a DEIG-Bench or MIG-Bench record."""
    if isinstance(value, list):
        return LayoutEntry(entry_id, "", tuple(parse_instances(value, where)), {"instances": value})
    if isinstance(value, dict):
        entry_id = str(value.get("id", value.get("entry_id", entry_id)))
        if "segment" in value:
            return _record_entry(value, "segment", entry_id, where)
        if "instances" in value:
            return _record_entry(value, "instances", entry_id, where)
        if "layout" in value:   # the widget value (JSON text) or its decoded list
            return LayoutEntry(entry_id, str(value.get("caption", "")),
                               tuple(parse_layout(value["layout"], f"{where}: 'layout'")), value)
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
        value = decode_json(text, where)
    except LayoutError as not_json:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            raise not_json from None
        return LayoutFile("jsonl", _unique([_jsonl_line(line, n, where) for n, line in lines], where))
    records = value.get("results") if isinstance(value, dict) else value
    if (isinstance(value, dict) and isinstance(records, list)) or (
            isinstance(records, list) and records and all(_is_deig_record(e) for e in records)):
        entries = [_record_entry(e, "instances", str(e.get("image_id", i)) if isinstance(e, dict) else str(i),
                                 f"{where}: entry {i}") for i, e in enumerate(records)]
        kind = "instdiff-bench" if isinstance(value, dict) and value.get("benchmark") == "instdiff-bench" else "deig-bench"
        return LayoutFile(kind, _unique(entries, where))
    if isinstance(value, dict) and _is_mig_bench(value):
        entries = [_record_entry(e, "segment", str(k), f"{where}: entry {k!r}") for k, e in value.items()]
        return LayoutFile("mig-bench", _unique(entries, where))
    return LayoutFile("editor-json", (_single_entry(value, "0", where),))


def _jsonl_line(line: str, lineno: int, where: str) -> LayoutEntry:
    value = decode_json(line, f"{where}: line {lineno}")
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
