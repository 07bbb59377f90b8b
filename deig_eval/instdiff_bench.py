"""InstDiff-Bench (the paper's Table 3, attribute binding): a layout file built from COCO val2017, as
InstanceDiffusion's evaluation builds its test set (``eval_local.py`` with ``--use_captions`` and
``--add_random_colors`` / ``--add_random_textures``).

* every image of ``instances_val2017.json`` that has annotations (crowd ones included), by image id;
* its first 30 annotations in the file's order, each box ``[x, y, w, h]`` in pixels turned into normalised
  ``[x / W, y / H, (x + w) / W, (y + h) / H]``;
* each instance's attribute is ``ATTRIBUTES[kind][annotation id % 8]`` and its text
  ``"<attribute> <category name>"``;
* the caption is the image's first caption in ``captions_val2017.json`` (file order) followed directly,
  without a separator, by all the image's phrases joined with ``", "`` (the original joins every
  annotation's phrase, not only the first 30, and does not add a space).

The result is a DEIG-Bench-shaped file (``{"results": [{"image_id", "caption", "instances": [{"bbox",
"description", ...}]}]}``) marked ``"benchmark": "instdiff-bench"`` so that ``score`` knows to compute
Table 3 on it; every other tool reads it as any layout file.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

BENCHMARK = "instdiff-bench"
MAX_INSTANCES = 30
ATTRIBUTES = {
    "color": ("black", "white", "red", "green", "yellow", "blue", "pink", "purple"),
    "texture": ("rubber", "fluffy", "metallic", "wooden", "plastic", "fabric", "leather", "glass"),
}


class CocoError(ValueError):
    """A COCO annotation file that cannot be used; the message names the file and what is wrong."""


def attribute_prompts(kind: str) -> list[str]:
    """The zero-shot choices of the attribute accuracy: ``"a <attribute> object"`` for each attribute."""
    return [f"a {attribute} object" for attribute in ATTRIBUTES[kind]]


def attribute_kind(layout_file) -> str:
    """color or texture: the kind whose list holds every instance's ``attribute`` in an InstDiff-Bench
    layout file (a ``deig_core.layout_files.LayoutFile``)."""
    used = {raw.get("attribute") for entry in layout_file.entries for raw in entry.raw["instances"]}
    for kind, attributes in ATTRIBUTES.items():
        if used <= set(attributes):
            return kind
    raise CocoError(f"InstDiff-Bench file: attributes {sorted(map(str, used))[:8]} are not all colours nor all "
                    f"textures ({', '.join(ATTRIBUTES['color'])} / {', '.join(ATTRIBUTES['texture'])})")


def _read_coco(path: Path, keys: tuple[str, ...]) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise CocoError(f"cannot read {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CocoError(f"{path} is not a JSON file") from None
    if not isinstance(data, dict) or any(not isinstance(data.get(k), list) for k in keys):
        raise CocoError(f"{path} is not a COCO annotation file: it needs the lists {', '.join(keys)}")
    return data


def build_instdiff_bench(instances_file: Path, captions_file: Path, kind: str) -> dict:
    """The InstDiff-Bench layout file (a dict, see the module's docstring) for ``kind`` color or texture."""
    if kind not in ATTRIBUTES:
        raise ValueError(f"attribute kind {kind!r}: use one of {', '.join(ATTRIBUTES)}")
    attributes = ATTRIBUTES[kind]
    coco = _read_coco(instances_file, ("images", "annotations", "categories"))
    captions = _read_coco(captions_file, ("annotations",))
    names = {c["id"]: c["name"] for c in coco["categories"]}
    annotations = defaultdict(list)
    for ann in coco["annotations"]:
        annotations[ann["image_id"]].append(ann)
    first_caption = {}
    for ann in captions["annotations"]:
        first_caption.setdefault(ann["image_id"], ann["caption"])
    results = []
    for image in sorted(coco["images"], key=lambda im: im["id"]):
        anns = annotations.get(image["id"])
        if not anns:
            continue
        if image["id"] not in first_caption:
            raise CocoError(f"{captions_file} has no caption for image {image['id']} of {instances_file}: "
                            f"give the captions file of the same split")
        width, height = image["width"], image["height"]
        phrases, instances = [], []
        for ann in anns:
            attribute = attributes[ann["id"] % len(attributes)]
            phrase = f"{attribute} {names[ann['category_id']]}"
            phrases.append(phrase)
            if len(instances) < MAX_INSTANCES:
                x, y, w, h = ann["bbox"]
                instances.append({"bbox": [x / width, y / height, (x + w) / width, (y + h) / height],
                                  "description": phrase, "category": names[ann["category_id"]],
                                  "attribute": attribute, "annotation_id": ann["id"]})
        results.append({"image_id": image["id"], "file_name": image.get("file_name", ""),
                        "caption": first_caption[image["id"]] + ", ".join(phrases), "instances": instances})
    if not results:
        raise CocoError(f"{instances_file} has no image with annotations")
    return {"benchmark": BENCHMARK, "attribute_kind": kind, "attributes": list(attributes), "results": results}


def write_instdiff_bench(instances_file: Path, captions_file: Path, kind: str, out: Path) -> int:
    """Write the layout file to ``out``; returns the number of entries."""
    bench = build_instdiff_bench(instances_file, captions_file, kind)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(bench, ensure_ascii=False), encoding="utf-8")
    return len(bench["results"])
