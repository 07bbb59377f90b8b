"""Counting reads of tensor values by the host (what makes a GPU wait for its queue to drain).

``HostReads`` is a ``TorchDispatchMode`` that counts the aten operators that hand a tensor's value to
Python or make an output size depend on values: ``_local_scalar_dense`` (``bool()``, ``float()``,
``.item()``), ``equal``, ``nonzero`` (also behind boolean indexing and ``masked_select``), and boolean indexing. On the CPU
these are cheap, but they are the same operators that block on a GPU, so counting them on the CPU
measures what a GPU would wait for.
"""
from __future__ import annotations

from collections import Counter

import torch
from torch.utils._python_dispatch import TorchDispatchMode

_INDEXING = {"index", "index_put", "index_put_", "_index_put_impl_"}
_HOST_READS = {"_local_scalar_dense", "equal", "nonzero", "nonzero_static", "masked_select", "is_nonzero"}


class HostReads(TorchDispatchMode):
    """``with HostReads() as reads: ...`` then ``reads.total`` and ``reads.by_op``."""

    def __init__(self):
        super().__init__()
        self.by_op: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in _HOST_READS:
            self.by_op[name] += 1
        elif name in _INDEXING and any(torch.is_tensor(i) and i.dtype == torch.bool for i in args[1] or ()):
            self.by_op[f"{name} (boolean)"] += 1
        return func(*args, **(kwargs or {}))

    @property
    def total(self) -> int:
        return sum(self.by_op.values())
