"""Synthetic layout files in the DEIG-Bench and MIG-Bench formats, for tests and the runner throughput script."""
from __future__ import annotations

WORDS = ["red car", "blue cup", "green apple", "white dog", "black cat", "yellow kite", "brown bear"]


def mig_bench(n: int) -> dict:
    """``n`` MIG-Bench records (the official file's shape: id -> caption, segment, image_id), 2..4 boxes,
    labels "a <colour> <thing>", ids "100", "101", ..."""
    out = {}
    for i in range(n):
        k = 2 + i % 3
        labels = [f"a {WORDS[(i + j) % len(WORDS)]}" for j in range(k)]
        segs = [{"bbox": [j / k, 0.1 + 0.02 * i, (j + 1) / k, 0.9], "label": lab} for j, lab in enumerate(labels)]
        out[str(100 + i)] = {"caption": "a photo of " + " and ".join(labels), "segment": segs, "image_id": str(i)}
    return out
