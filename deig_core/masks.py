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

Everything here is tensor arithmetic on the device the masks are built on: no value is read back to
the host, so building regions never waits for the device.

Follows the official ``inference.py`` (painting on the canvas) and ``ldm/modules/attention.py`` (pooling to a token grid).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

OFFICIAL_CANVAS = 512


def canvas_size(latent_hw: tuple[int, int]) -> tuple[int, int]:
    h, w = latent_hw
    return (OFFICIAL_CANVAS, OFFICIAL_CANVAS) if h == w else (8 * h, 8 * w)


def paint_boxes(boxes: torch.Tensor, canvas_hw: tuple[int, int], device=None) -> torch.Tensor:
    """(N, 4) normalised boxes -> (N, Hc, Wc) float canvas masks (round-half-even, as numpy.round),
    on ``device`` (default: the boxes' device)."""
    hc, wc = canvas_hw
    device = boxes.device if device is None else device
    b = boxes.detach().to(device, torch.float64)
    scale = torch.tensor([wc, hc, wc, hc], dtype=torch.float64, device=device)
    px = torch.round(b * scale).long()
    ys = torch.arange(hc, device=device)[None, :, None]
    xs = torch.arange(wc, device=device)[None, None, :]
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
    h, w = masks.shape[-2:]
    b = boxes.detach().to(masks.device, torch.float64)
    cy = ((b[:, 1] + b[:, 3]) / 2 * h).long().clamp(0, h - 1)  # boxes are >= 0: truncation is the floor
    cx = ((b[:, 0] + b[:, 2]) / 2 * w).long().clamp(0, w - 1)
    empty = ~masks.flatten(1).any(dim=1)
    masks = masks.clone()
    rows = torch.arange(masks.shape[0], device=masks.device)
    masks[rows, cy, cx] |= empty
    return masks


def region_masks(boxes: torch.Tensor, grid_hw: tuple[int, int], latent_hw: tuple[int, int],
                 canvas: torch.Tensor | None = None, device=None) -> torch.Tensor:
    """Instance masks (N, h, w) bool at one token grid, on ``device`` (default: the boxes' device).

    boxes: (N, 4) normalised; canvas: optional (N, Hc, Wc) region masks (else the boxes are painted);
    latent_hw: the UNet input's spatial size, which fixes the canvas for boxes.
    """
    device = boxes.device if device is None else device
    if boxes.shape[0] == 0:
        return torch.zeros(0, *grid_hw, dtype=torch.bool, device=device)
    canvas = paint_boxes(boxes, canvas_size(latent_hw), device) if canvas is None else canvas.to(device)
    return ensure_coverage(downsample(canvas.float(), grid_hw), boxes)
