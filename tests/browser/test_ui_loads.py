"""The ComfyUI frontend loads in headless Chromium with the pack's nodes registered and no errors."""
from pathlib import Path

import pytest

from tests.support.browser import unexpected_errors

pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).with_name("ui_loads.mjs")


def test_frontend_loads_with_deig_nodes(comfy_server, browser, artifacts_dir):
    result = browser(SCRIPT, comfy_server.base_url, artifacts_dir)
    assert "DEIG_InstanceLayout" in result["deigNodes"], result
    assert result["nodeTypeCount"] > 100
    assert unexpected_errors(result, comfy_server.base_url) == []
    assert (artifacts_dir / "ui_loaded.png").is_file()
