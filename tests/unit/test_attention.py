"""The fast fuser attention equals the official dense-mask semantics, without building the mask."""
import collections
import logging

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from comfyui_deig.deig_core import attention
from comfyui_deig.deig_core.attention import _reference_attention_with_lse, attention_with_lse, grounded_attention, object_mask
from devkit.dense_reference import dense_fuser_forward
from comfyui_deig.deig_core.fuser import GatedSelfAttentionFuser
from comfyui_deig.deig_core.masks import region_masks


class _OpCounts(TorchDispatchMode):
    """Counts the aten operators that actually ran (by packet name, e.g. ``_scaled_dot_product_flash_attention_for_cpu``)."""
    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.counts[func.overloadpacket.__name__] += 1
        return func(*args, **(kwargs or {}))


FLASH_CPU_OP = "_scaled_dot_product_flash_attention_for_cpu"


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
        f(x, objs, allowed, 1.0)  # kernels decided
        with _OpCounts() as ops:
            fast = f(x, objs, allowed, 1.0)
        dense = dense_fuser_forward(f, x, objs, allowed)
    assert ops.counts[FLASH_CPU_OP] == 2  # the visual and the object attention both ran fused
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
    bias = torch.zeros(2, 1, 50, 50).masked_fill(torch.rand(2, 1, 50, 50) < 0.5, float("-inf"))
    bias[..., 0] = 0.0  # every row keeps a key
    attention_with_lse(q, k, v), attention_with_lse(q, k, v, bias)  # both forms decided before counting
    with _OpCounts() as ops:
        out, lse = attention_with_lse(q, k, v)
        out_b, lse_b = attention_with_lse(q, k, v, bias)
    assert ops.counts[FLASH_CPU_OP] == 2, "the fused CPU kernel did not run: the comparison below would be the reference with itself"
    ro, rl = _reference_attention_with_lse(q, k, v, chunk_rows=7)
    assert (out - ro).abs().max() < 1e-5 and (lse - rl).abs().max() < 1e-5
    ro, rl = _reference_attention_with_lse(q, k, v, bias, chunk_rows=7)
    assert (out_b - ro).abs().max() < 1e-5 and (lse_b - rl).abs().max() < 1e-5


def test_kernel_decided_once_per_form(monkeypatch):
    """The probe runs on the first call of each (device type, dtype, bias or not), never again."""
    monkeypatch.setattr(attention, "_choices", {})
    q = torch.randn(1, 2, 8, 16)
    bias = torch.zeros(1, 1, 8, 8)
    with _OpCounts() as ops:
        for _ in range(3):
            attention_with_lse(q, q, q)
    assert ops.counts[FLASH_CPU_OP] == 1 + 3  # one probe, three calls
    with _OpCounts() as ops:
        for _ in range(3):
            attention_with_lse(q, q, q, bias)
            attention_with_lse(q.double(), q.double(), q.double())
    assert ops.counts[FLASH_CPU_OP] == 2 + 6  # one probe for each new form
    assert attention.kernel_choice(q.device, q.dtype, False).kernels == (attention.FLASH_CPU, attention.REFERENCE)


def test_missing_kernel_warns_once_naming_why(caplog, monkeypatch):
    """A device without a fused kernel (here ``meta``, as MPS/XPU) falls back with exactly one WARNING."""
    monkeypatch.setattr(attention, "_choices", {})
    q = torch.zeros(1, 2, 8, 16, device="meta")
    with caplog.at_level(logging.DEBUG, logger=attention.__name__):
        for _ in range(3):
            out, lse = attention_with_lse(q, q, q)
    assert out.shape == q.shape and lse.shape == q.shape[:3]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and len(caplog.records) == 1
    assert "meta float32 without bias" in warnings[0].getMessage()
    assert "no fused attention kernel" in warnings[0].getMessage() and "reference" in warnings[0].getMessage()


def test_unavailable_kernel_is_skipped_with_its_reason(caplog):
    """A fused kernel that does not exist for the device (the CUDA kernel on the CPU) is probed, skipped
    and named in one WARNING with PyTorch's reason; the next usable kernel runs."""
    with caplog.at_level(logging.WARNING, logger=attention.__name__):
        choice = attention.choose_kernels(torch.device("cpu"), torch.float16, False,
                                          [attention.FLASH_CUDA, attention.FLASH_CPU])
    assert choice.kernels == (attention.FLASH_CPU, attention.REFERENCE)
    [warning] = caplog.records
    message = warning.getMessage()
    assert "flash_cuda unavailable (NotImplementedError: Could not run" in message and "using flash_cpu" in message


def _failing_kernel(error):
    def run(q, k, v, bias):
        raise error
    return attention.Kernel("failing", run)


@pytest.mark.parametrize("error", [torch.OutOfMemoryError("CUDA out of memory"), ValueError("a bug")],
                         ids=["out_of_memory", "other_error"])
def test_probe_lets_errors_other_than_unavailable_propagate(error):
    with pytest.raises(type(error)):
        attention.choose_kernels(torch.device("cpu"), torch.float32, False, [_failing_kernel(error)])


def test_chosen_kernel_errors_propagate():
    """An error of the chosen kernel on a real call is the caller's to see, not a cue to quietly compute
    the reference (which would accept this float64 bias)."""
    q = torch.randn(1, 2, 8, 16)
    attention_with_lse(q, q, q, torch.zeros(1, 1, 8, 8))
    with pytest.raises(RuntimeError):
        attention_with_lse(q, q, q, torch.zeros(1, 1, 8, 8, dtype=torch.float64))


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
