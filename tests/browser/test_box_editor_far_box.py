"""Issue #23: a box typed far outside the image is refused with the backend's own words in the
editor's JSON view (nothing clamped), and in the pixel fields; a box past an edge within the
documented tolerance is clamped as the backend clamps it. Both frontends, both renderers."""
import json
from pathlib import Path

import pytest

from comfyui_deig.deig_core.layout import LayoutError, parse_layout
from devkit.browser import pack_errors

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).with_name("box_editor_far_box.mjs")


@pytest.mark.parametrize("mode", ["classic", "vue"])
def test_a_box_far_outside_is_refused_in_the_editor_as_in_the_backend(comfy_server, browser, artifacts_dir, mode):
    r = browser(SCRIPT, comfy_server.base_url, artifacts_dir, timeout=240, args=(mode,))
    (artifacts_dir / "result.json").write_text(json.dumps(r, indent=1))
    assert "error" not in r, r.get("error")
    assert pack_errors(r, comfy_server) == []

    # The JSON view shows the backend's message for the same text, and the value stays as typed.
    far = r["far"]
    with pytest.raises(LayoutError) as backend:
        parse_layout(far["value"])
    assert str(backend.value) == "layout: instance 2: x2 = 1.4 is outside the image: coordinates must be between " \
                                 "0 and 1 (normalised; up to 0.05 past an edge is clamped)"
    assert str(backend.value) in far["error"], far
    assert json.loads(far["value"])[1]["box"] == [0.5, 0.5, 1.4, 1.2]

    # Within the tolerance: accepted (the error went away), kept as typed, and the backend clamps it.
    assert json.loads(r["near"]["value"])[1]["box"] == [0.5, 0.5, 1.04, 1.02]
    assert parse_layout(r["near"]["value"])[1].box == (0.5, 0.5, 1.0, 1.0)

    # The pixel field refuses x2 beyond the image with the same rule in pixels; the box is unchanged.
    assert r["pixel"]["message"] == "x2 = 717 px is outside the image: coordinates must be between 0 and 512 px " \
                                    "(the image is 512×512)", r["pixel"]
    assert r["pixel"]["value"] == r["near"]["value"]
    for name in ("json", "pixels"):
        assert (artifacts_dir / f"far_box_{name}_{mode}.png").is_file()
