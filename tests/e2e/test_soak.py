"""The short soak: DEIG prompts with varying layouts and sizes plus interrupts on the real server."""
from devkit.example_models import install_example_models
from devkit.soak import soak


def test_short_soak(comfy_server, models_dir):
    """Every prompt ends completed or cancelled; each interrupt, sent when the server says the target
    prompt's KSampler started, cancels exactly that prompt; the base model is left unpatched."""
    install_example_models(models_dir)
    lines = []
    r = soak(comfy_server, prompts=10, interrupts=2, seed=1, log=lines.append)
    assert r["failed"] == 0, lines
    assert r["interrupts_sent"] == 2
    assert (r["completed"], r["cancelled"]) == (8, 2), r
