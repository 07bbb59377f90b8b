"""Test harness for ComfyUI-DEIG: host paths, the real-server fixture, synthetic models, the browser driver."""
