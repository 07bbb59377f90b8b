"""Instance region masks: the official rule on square latents, coverage everywhere."""
import torch

from comfyui_deig.deig_core.masks import paint_boxes, region_masks
from comfyui_deig.deig_core.unet_layout import SD15_UNET, unet_layout


def _extent(m):
    ys, xs = torch.nonzero(m, as_tuple=True)
    return ys.min().item(), ys.max().item() + 1, xs.min().item(), xs.max().item() + 1


def test_official_rule_on_a_square_latent():
    box = torch.tensor([[0.0, 0.0, 0.5, 0.5]])
    lat = (64, 64)
    assert _extent(region_masks(box, (64, 64), lat)[0]) == (0, 32, 0, 32)   # ratio 8, no dilation
    assert _extent(region_masks(box, (32, 32), lat)[0]) == (0, 16, 0, 16)   # ratio 16
    assert _extent(region_masks(box, (16, 16), lat)[0]) == (0, 9, 0, 9)     # 3x3 dilation
    assert _extent(region_masks(box, (8, 8), lat)[0]) == (0, 6, 0, 6)       # 5x5 dilation


def test_rounding_is_half_to_even_like_numpy():
    # 0.5/512 * 512 = 0.5 -> 0 ; 1.5 -> 2 (numpy.round semantics)
    m = paint_boxes(torch.tensor([[0.5 / 512, 1.5 / 512, 0.5, 0.5]]), (512, 512))[0]
    assert m[2, 0] == 1 and m[1, 0] == 0


def test_every_box_covers_a_token_at_every_level_non_square():
    boxes = torch.tensor([[0.4, 0.4, 0.4005, 0.4003], [0.0, 0.0, 1.0, 1.0], [0.99, 0.0, 1.0, 0.01]])
    for latent in [(64, 96), (96, 64), (40, 72), (48, 48), (7, 13)]:
        h, w = latent
        for level in range(4):
            grid = (max(1, -(-h // 2 ** level)), max(1, -(-w // 2 ** level)))
            m = region_masks(boxes, grid, latent)
            assert m.shape == (3, *grid)
            assert m.flatten(1).any(1).all(), (latent, grid)


def test_sd15_layout_has_16_transformer_blocks():
    blocks = unet_layout(SD15_UNET).blocks
    assert len(blocks) == 16
    assert blocks[0] == (("input", 1), 0, 320) and (("middle", 0), 0, 1280) in blocks
    assert blocks[-1] == (("output", 11), 0, 320)
