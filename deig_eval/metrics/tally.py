"""Counting outcomes into the paper's figures.

MIG-Bench (Table 2): an image with k instances is level L<k> (L2..L6); per level and overall, the
instance success rate (located and right colour) and mIoU (an instance that is located with the wrong
colour counts IoU 0, one not located counts its best IoU), and the image success rate (all instances).
DEIG-Bench (Table 1): MAA = share of instances located with the attributes judged right, for people by
the number of colours described (C1..C3) and for objects by description strategy (L1 colour only,
L2 + material, L3 + texture, L4 + material + texture); mIoU over all instances.
MIG-Bench and DEIG-Bench: CLIP score = mean over images (image with caption); local CLIP score = mean over all instances of
all images (instance crop with its description in the 80 templates).
InstDiff-Bench (Table 3): see :class:`AttributeBindingTally`.
"""
from __future__ import annotations

from collections import defaultdict

from .boxes import InstanceOutcome

MIG_LEVELS = tuple(f"L{k}" for k in range(2, 7))
PERSON_GROUPS = ("C1", "C2", "C3")
OBJECT_GROUPS = ("L1", "L2", "L3", "L4")


def _ratio(hit: int, total: int) -> float | None:
    return hit / total if total else None


class Mean:
    def __init__(self):
        self.sum, self.n = 0.0, 0

    def add(self, x: float) -> None:
        self.sum += float(x)
        self.n += 1

    @property
    def value(self) -> float | None:
        return self.sum / self.n if self.n else None


class ClipMeans:
    """The CLIP figures of a bench, when CLIP is given."""

    def __init__(self):
        self.per_image = Mean()  # image with its caption
        self.per_instance = Mean()  # instance crop with its description (local CLIP)

    def figures(self) -> dict:
        return {"clip_score": self.per_image.value, "local_clip_score": self.per_instance.value}


class MigTally:
    def __init__(self):
        self.inst = defaultdict(lambda: [0, 0])  # level -> [successes, instances]
        self.images = defaultdict(lambda: [0, 0])
        self.iou = defaultdict(Mean)
        self.clip = ClipMeans()

    def add_image(self, outcomes: list[InstanceOutcome]) -> None:
        level = f"L{len(outcomes)}"
        for o in outcomes:
            for key in (level, "all"):
                self.inst[key][0] += o.success
                self.inst[key][1] += 1
                self.iou[key].add(o.iou)
        for key in (level, "all"):
            self.images[key][0] += all(o.success for o in outcomes)
            self.images[key][1] += 1

    def figures(self) -> dict:
        keys = [*MIG_LEVELS, "all"]
        return {"instance_success_rate": {k: _ratio(*self.inst[k]) if k in self.inst else None for k in keys},
                "miou": {k: self.iou[k].value if k in self.iou else None for k in keys},
                "image_success_rate": {k: _ratio(*self.images[k]) if k in self.images else None for k in keys},
                **self.clip.figures(),
                "images": self.images["all"][1] if "all" in self.images else 0}


def deig_group(eval_info: dict) -> str | None:
    """C1..C3 for a person by colour count, L1..L4 for an object by strategy; None when not evaluated."""
    kind = eval_info.get("type")
    metrics = eval_info.get("eval_metrics") or {}
    if kind == "person":
        n = (metrics.get("color") or {}).get("num_colors")
        return f"C{n}" if n in (1, 2, 3) else None
    if kind == "object":
        material = bool((metrics.get("material") or {}).get("has_material"))
        texture = bool((metrics.get("texture") or {}).get("has_texture"))
        return "L" + str(1 + material + 2 * texture)
    return None


class DeigTally:
    def __init__(self):
        self.groups = defaultdict(lambda: [0, 0])  # group -> [successes, instances]
        self.iou = Mean()
        self.clip = ClipMeans()
        self.images = 0

    def add_image(self, outcomes: list[InstanceOutcome], eval_infos: list[dict]) -> None:
        self.images += 1
        for o, info in zip(outcomes, eval_infos):
            self.iou.add(o.iou)
            group = deig_group(info or {})
            if group is not None:
                self.groups[group][0] += o.success
                self.groups[group][1] += 1

    def figures(self) -> dict:
        def overall(groups):
            hit = sum(self.groups[g][0] for g in groups if g in self.groups)
            total = sum(self.groups[g][1] for g in groups if g in self.groups)
            return _ratio(hit, total)

        return {"maa_human": {**{g: _ratio(*self.groups[g]) if g in self.groups else None for g in PERSON_GROUPS},
                              "all": overall(PERSON_GROUPS)},
                "maa_object": {**{g: _ratio(*self.groups[g]) if g in self.groups else None for g in OBJECT_GROUPS},
                               "all": overall(OBJECT_GROUPS)},
                "miou": self.iou.value, **self.clip.figures(), "images": self.images}


class AttributeBindingTally:
    """InstDiff-Bench (Table 3): per image, the mean over its scored instances of the crop-phrase CLIP cosine
    and of the zero-shot attribute choice being right; then the mean over images (an image none of whose
    instances could be cropped counts in neither)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.cosine = Mean()
        self.accuracy = Mean()
        self.images = 0

    def add_image(self, cosines: list[float], correct: list[bool]) -> None:
        self.images += 1
        if cosines:
            self.cosine.add(sum(cosines) / len(cosines))
            self.accuracy.add(sum(bool(c) for c in correct) / len(correct))

    def figures(self) -> dict:
        return {"attribute_kind": self.kind, "attribute_clip": self.cosine.value,
                "attribute_accuracy": self.accuracy.value, "images": self.images}
