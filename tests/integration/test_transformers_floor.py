"""The pack works with ComfyUI 0.3.75's own minimum transformers (4.50.3) as with the newest: `make test` runs
this file (with the other unit and integration tests) in ``.venv-floor`` as well as in ``.venv``."""
import shutil

import pytest
import torch

pytestmark = pytest.mark.integration

transformers = pytest.importorskip("transformers")

from comfyui_deig.deig_core.text_encoder import load_t5_encoder  # noqa: E402
from devkit.synthetic_models import t5_encoder_dir  # noqa: E402


def test_t5_folder_loads_in_the_requested_dtype(tmp_path):
    folder = tmp_path / "t5"
    shutil.copytree(t5_encoder_dir(), folder)
    fp32 = load_t5_encoder(str(folder), dtype=torch.float32)
    fp16 = load_t5_encoder(str(folder), dtype=torch.float16)
    # (T5 keeps its feed-forward output layers in float32 whatever the dtype: transformers' _keep_in_fp32_modules)
    assert fp16.model.shared.weight.dtype == torch.float16 and fp32.model.shared.weight.dtype == torch.float32
    assert {p.dtype for p in fp32.model.parameters()} == {torch.float32}
    a, b = fp32.encode(["a red car"]), fp16.encode(["a red car"])
    assert a.shape == b.shape and a.dtype == b.dtype == torch.float32
