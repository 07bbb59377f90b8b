"""Runs the pack's command-line tools with any Python, ComfyUI's Windows portable build included.

``python -m deig_eval ...`` needs the pack's folder as the current folder and on ``sys.path``. The portable
build's ``python_embeded\\python.exe`` never puts the current folder on ``sys.path`` (its ``._pth`` file fixes the
path), so ``-m`` finds nothing there. This file puts its own folder on the path and runs the named tool, from
any folder:

    python_embeded\\python.exe ComfyUI\\custom_nodes\\ComfyUI-DEIG\\run_command.py deig_core.convert model.pth deig.safetensors
    python_embeded\\python.exe ComfyUI\\custom_nodes\\ComfyUI-DEIG\\run_command.py deig_eval run --bench ... --workflow ...

Everything after the tool's name goes to the tool, as with ``python -m``. ComfyUI never imports this file.
"""
import os
import runpy
import sys

COMMANDS = ("deig_core.convert", "deig_eval")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(f"usage: {os.path.basename(sys.argv[0])} {{{','.join(COMMANDS)}}} [arguments of the tool]\n")
        raise SystemExit(2)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    module = sys.argv.pop(1)
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
