"""Box arithmetic of the official evaluation: IoU of the detections with the layout box, the
outcome of one instance (located? attribute right? its IoU), and the pixels of an instance's crop."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IOU_THRESHOLD = 0.5  # a detection locates the instance when its IoU with the layout box reaches this
NMS_THRESHOLD = 0.8


def iou(boxes, box) -> np.ndarray:
    """IoU of each ``boxes[i]`` (N, 4 as x1, y1, x2, y2) with ``box`` (4,)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    box = np.asarray(box, dtype=np.float64)
    iw = np.maximum(np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]), 0.0)
    ih = np.maximum(np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]), 0.0)
    inter = iw * ih
    union = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
             + (box[2] - box[0]) * (box[3] - box[1]) - inter)
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def nms(boxes, scores, threshold: float = NMS_THRESHOLD) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    order = list(np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable"))
    keep = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if order:
            overlaps = iou(boxes[order], boxes[i])
            order = [j for j, o in zip(order, overlaps) if o <= threshold]
    return keep


@dataclass(frozen=True)
class InstanceOutcome:
    located: bool  # a detection overlaps the layout box by IOU_THRESHOLD or more
    attribute: bool  # the attribute check passed (only tried when located)
    iou: float  # what mIoU averages (see located_outcome)

    @property
    def success(self) -> bool:
        return self.located and self.attribute


def located_outcome(detections, layout_box, threshold: float = IOU_THRESHOLD) -> tuple[bool, float]:
    """(located, best IoU) of the detections (N, 4) against the layout box; (False, 0.0) without any."""
    detections = np.asarray(detections, dtype=np.float64).reshape(-1, 4)
    if len(detections) == 0:
        return False, 0.0
    best = float(iou(detections, layout_box).max())
    return best >= threshold, best


def pixel_crop_box(box, width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) pixels of a normalised box (x1, y1, x2, y2) in a width x height image, as
    the official local CLIP crop takes them: ``int(width * x1)`` .. ``int(width * x2)`` (columns, end
    excluded) and the same for rows; kept inside the image and at least one pixel wide and high (a box
    thinner than a pixel would otherwise crop nothing)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    left, right = _pixel_span(x1, x2, width)
    top, bottom = _pixel_span(y1, y2, height)
    return left, top, right, bottom


def _pixel_span(start: float, end: float, size: int) -> tuple[int, int]:
    first = min(max(int(size * start), 0), size - 1)
    return first, max(min(int(size * end), size), first + 1)
