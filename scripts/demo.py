"""TODO(demo owner): placeholder for `make demo`; replace with the real demo.

The real one starts a headless ComfyUI with the pack (see tests/support/server.py: ComfyServer),
runs the main example in workflows/ and saves the image under out/.
"""
import sys

if __name__ == "__main__":
    print("make demo: scripts/demo.py is a placeholder (TODO): the demo is not written yet", file=sys.stderr)
    sys.exit(1)
