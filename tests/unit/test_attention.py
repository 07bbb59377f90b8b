"""The fast fuser attention equals the official dense-mask semantics, without building the mask."""
import pytest
import torch

from comfyui_deig.deig_core.attention import _reference_attention_with_lse, attention_with_lse, grounded_attention, object_mask
from devkit.dense_reference import dense_fuser_forward
from comfyui_deig.deig_core.fuser import GatedSelfAttentionFuser
from comfyui_deig.deig_core.masks import region_masks


def _fuser(dim=64, ctx=32, heads=4, seed=0):
    torch.manual_seed(seed)
    f = GatedSelfAttentionFuser(dim, ctx, heads)
    for p in f.parameters():
        torch.nn.init.normal_(p, std=0.2)
    with torch.no_grad():
        f.alpha_attn.fill_(0.7)
        f.alpha_dense.fill_(0.4)
    return f.eval()


def _allowed(boxes, hw):
    return region_masks(boxes, hw, hw).flatten(1).T[None]


@pytest.mark.parametrize("hw", [(8, 8), (16, 16), (6, 10)])
def test_matches_dense_mask(hw):
    f = _fuser()
    boxes = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 1.0, 0.75], [0.9, 0.9, 0.95, 0.97]])
    allowed = _allowed(boxes, hw)
    x = torch.randn(1, hw[0] * hw[1], 64)
    objs = torch.randn(1, 3 * 4, 32) * 3
    with torch.no_grad():
        fast = f(x, objs, allowed, 1.0)
        dense = dense_fuser_forward(f, x, objs, allowed)
    assert (fast - dense).abs().max() < 1e-5


def test_batch_with_null_grounding_row():
    f = _fuser()
    boxes = torch.tensor([[0.1, 0.1, 0.6, 0.9], [0.5, 0.0, 1.0, 0.5]])
    a = _allowed(boxes, (8, 8))
    allowed = torch.cat([a, torch.zeros_like(a)])  # cond row, null-grounding row
    x = torch.randn(2, 64, 64)
    objs = torch.randn(2, 8, 32)
    with torch.no_grad():
        fast = f(x, objs, allowed, 1.0)
        dense = dense_fuser_forward(f, x, objs, allowed)
        visual_only = f(x[1:], None, None, 1.0)
    assert (fast - dense).abs().max() < 1e-5
    assert torch.equal(fast[1:], visual_only)


def test_strength_zero_is_identity():
    f = _fuser()
    x = torch.randn(2, 64, 64)
    out = f(x, torch.randn(2, 8, 32), torch.ones(2, 64, 2, dtype=torch.bool), 0.0)
    assert torch.equal(out, x)


def test_lse_kernel_matches_reference():
    q, k, v = (torch.randn(2, 3, 50, 16) for _ in range(3))
    out, lse = attention_with_lse(q, k, v)
    ro, rl = _reference_attention_with_lse(q, k, v, chunk_rows=7)
    assert (out - ro).abs().max() < 1e-5 and (lse - rl).abs().max() < 1e-5
    bias = torch.zeros(2, 1, 50, 50).masked_fill(torch.rand(2, 1, 50, 50) < 0.5, float("-inf"))
    bias[..., 0] = 0.0  # every row keeps a key
    out, lse = attention_with_lse(q, k, v, bias)
    ro, rl = _reference_attention_with_lse(q, k, v, bias, chunk_rows=7)
    assert (out - ro).abs().max() < 1e-5 and (lse - rl).abs().max() < 1e-5


def test_uncovered_tokens_equal_visual_attention():
    q, k, v = (torch.randn(1, 2, 16, 8) for _ in range(3))
    ko, vo = torch.randn(1, 2, 4, 8) * 10, torch.randn(1, 2, 4, 8)
    allowed = torch.zeros(1, 16, 1, dtype=torch.bool)
    allowed[0, :4] = True
    out = grounded_attention(q, k, v, ko, vo, object_mask(allowed, 4, q.dtype))
    vis, _ = attention_with_lse(q, k, v)
    assert torch.equal(out[:, :, 4:], vis[:, :, 4:])
    assert not torch.allclose(out[:, :, :4], vis[:, :, :4])


def test_rows_without_keys_give_zero_on_cpu():
    """grounded_attention's merge relies on it for tokens covered by no instance."""
    q, k, v = (torch.randn(1, 2, 6, 8) for _ in range(3))
    bias = torch.zeros(1, 1, 6, 6)
    bias[..., 2, :] = float("-inf")
    for out, _ in (attention_with_lse(q, k, v, bias), _reference_attention_with_lse(q, k, v, bias)):
        assert torch.equal(out[:, :, 2], torch.zeros(1, 2, 8)) and out.isfinite().all()
