"""The short soak: DEIG prompts with varying layouts and sizes plus interrupts on the real server."""
import os
import sys

from tests.support.example_models import install_example_models

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from soak import soak  # noqa: E402


def test_short_soak(comfy_server, models_dir):
    install_example_models(models_dir)
    lines = []
    r = soak(comfy_server, prompts=10, interrupts=2, seed=1, log=lines.append)
    assert r["failed"] == 0, lines
    assert r["completed"] + r["cancelled"] == 10
    assert r["interrupts_sent"] == 2 and r["cancelled"] >= 1
