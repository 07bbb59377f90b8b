"""Instance region masks at each fuser's token grid.

Official rule (square latents): each instance is painted on a 512x512 canvas
(``x1, y1, x2, y2 = round(v * 512)``, ones on ``[y1:y2, x1:x2]``); a fuser with an h x w token grid
max-pools the canvas by the integer ratio, resizes (nearest) if the size still differs, then dilates
(3x3 when the grid side is 9..16, 5x5 when it is <= 8); a token belongs to the instance when > 0.

Extension to any latent (non-square): the canvas is the image in pixels (8 x the latent), the ratio
and the dilation are taken per axis (kernel height from h, width from w), which is the official rule
whenever h == w. Arbitrary region masks use their own resolution as the canvas. Finally every
instance covers at least one token at every level: a region that vanished at a coarse grid (a box
under one canvas pixel, or a nearest resize that skipped it) gets the token under its box centre.

Follows the official ``inference.py`` (painting on the canvas) and ``ldm/modules/attention.py`` (pooling to a token grid).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

OFFICIAL_CANVAS = 512


def canvas_size(latent_hw: tuple[int, int]) -> tuple[int, int]:
    h, w = latent_hw
    return (OFFICIAL_CANVAS, OFFICIAL_CANVAS) if h == w else (8 * h, 8 * w)


def paint_boxes(boxes: torch.Tensor, canvas_hw: tuple[int, int]) -> torch.Tensor:
    """(N, 4) normalised boxes -> (N, Hc, Wc) float canvas masks (round-half-even, as numpy.round)."""
    hc, wc = canvas_hw
    b = boxes.detach().to("cpu", torch.float64)
    scale = torch.tensor([wc, hc, wc, hc], dtype=torch.float64)
    px = torch.round(b * scale).long()
    ys = torch.arange(hc)[None, :, None]
    xs = torch.arange(wc)[None, None, :]
    x1, y1, x2, y2 = (px[:, i, None, None] for i in range(4))
    return ((ys >= y1) & (ys < y2) & (xs >= x1) & (xs < x2)).float()


def _dilation(side: int) -> int:
    return 5 if side <= 8 else 3 if side <= 16 else 1


def downsample(canvas: torch.Tensor, grid_hw: tuple[int, int]) -> torch.Tensor:
    """(N, Hc, Wc) canvas masks -> (N, h, w) bool, by the official pool/resize/dilate rule."""
    h, w = grid_hw
    m = (canvas > 0.5).float()[None]
    rh, rw = m.shape[-2] // h, m.shape[-1] // w
    if rh > 1 or rw > 1:
        m = F.max_pool2d(m, kernel_size=(max(rh, 1), max(rw, 1)), stride=(max(rh, 1), max(rw, 1)))
        if m.shape[-2:] != (h, w):
            m = F.interpolate(m, size=(h, w), mode="nearest")
        kh, kw = _dilation(h), _dilation(w)
        if kh > 1 or kw > 1:
            m = F.max_pool2d(m, kernel_size=(kh, kw), stride=1, padding=(kh // 2, kw // 2))
    else:
        m = F.interpolate(m, size=(h, w), mode="nearest")
    return m[0] > 0


def ensure_coverage(masks: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Give every empty instance mask the token under its box centre. masks (N, h, w) bool."""
    empty = ~masks.flatten(1).any(dim=1)
    if not bool(empty.any()):
        return masks
    h, w = masks.shape[-2:]
    masks = masks.clone()
    for i in torch.nonzero(empty).flatten().tolist():
        x1, y1, x2, y2 = boxes[i].tolist()
        cy = min(max(int((y1 + y2) / 2 * h), 0), h - 1)
        cx = min(max(int((x1 + x2) / 2 * w), 0), w - 1)
        masks[i, cy, cx] = True
    return masks


def region_masks(boxes: torch.Tensor, grid_hw: tuple[int, int], latent_hw: tuple[int, int],
                 canvas: torch.Tensor | None = None) -> torch.Tensor:
    """Instance masks (N, h, w) bool at one token grid.

    boxes: (N, 4) normalised; canvas: optional (N, Hc, Wc) region masks (else the boxes are painted);
    latent_hw: the UNet input's spatial size, which fixes the canvas for boxes.
    """
    if boxes.shape[0] == 0:
        return torch.zeros(0, *grid_hw, dtype=torch.bool)
    if canvas is None:
        canvas = paint_boxes(boxes, canvas_size(latent_hw))
    return ensure_coverage(downsample(canvas.float().cpu(), grid_hw), boxes.detach().cpu())
