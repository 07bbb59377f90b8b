"""MIG-Bench's colour check: the share of the instance's segment whose pixels fall in the colour's HSV
range (OpenCV's 8-bit convention: H 0..180, S and V 0..255, bounds inclusive) must reach 20%."""
from __future__ import annotations

import numpy as np

MIN_COLOR_SHARE = 0.2
# (lower, upper) HSV bounds per colour word; red wraps around hue 0 and has two ranges.
COLOR_RANGES = {
    "red": [((0, 50, 70), (9, 255, 255)), ((159, 50, 70), (180, 255, 255))],
    "blue": [((90, 50, 70), (128, 255, 255))],
    "yellow": [((25, 50, 70), (35, 255, 255))],
    "green": [((36, 50, 70), (89, 255, 255))],
    "black": [((0, 0, 0), (180, 255, 30))],
    "white": [((0, 0, 221), (180, 43, 255))],
    "brown": [((6, 43, 35), (25, 255, 255))],
}


def rgb_to_hsv8(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> uint8 HSV as OpenCV's COLOR_RGB2HSV computes it."""
    x = rgb.astype(np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = x.max(-1)
    diff = v - x.min(-1)
    s = np.where(v > 0, 255.0 * diff / np.where(v > 0, v, 1.0), 0.0)
    d = np.where(diff > 0, diff, 1.0)
    h = np.where(v == r, 60.0 * (g - b) / d, np.where(v == g, 120.0 + 60.0 * (b - r) / d, 240.0 + 60.0 * (r - g) / d))
    h = np.where(diff > 0, h, 0.0)
    h = np.where(h < 0, h + 360.0, h)
    return np.stack([np.round(h / 2.0), np.round(s), v], -1).clip(0, 255).astype(np.uint8)


def color_mask(rgb: np.ndarray, color: str) -> np.ndarray:
    if color not in COLOR_RANGES:
        raise ValueError(f"colour {color!r} has no HSV range (known: {', '.join(COLOR_RANGES)})")
    hsv = rgb_to_hsv8(rgb).astype(np.int16)
    out = np.zeros(rgb.shape[:2], dtype=bool)
    for lo, hi in COLOR_RANGES[color]:
        out |= np.all((hsv >= np.array(lo)) & (hsv <= np.array(hi)), axis=-1)
    return out


def color_matches(rgb: np.ndarray, segment: np.ndarray, color: str) -> bool:
    """Whether at least MIN_COLOR_SHARE of the segment's pixels have the colour."""
    area = int(segment.sum())
    if area == 0:
        return False
    return (color_mask(rgb, color) & segment.astype(bool)).sum() / area >= MIN_COLOR_SHARE


def split_mig_label(label: str) -> tuple[str, str]:
    """MIG-Bench labels read "a <colour> <object words>": returns (colour, object)."""
    words = label.split(" ")
    if len(words) < 3:
        raise ValueError(f"MIG-Bench label {label!r} is not 'a <colour> <object>'")
    return words[1], " ".join(words[2:])
