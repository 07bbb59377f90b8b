"""ComfyUI-DEIG: Detail-Enhanced Instance Generation nodes for ComfyUI.

ComfyUI imports this package from ``custom_nodes/``; it finds ``comfy_entrypoint`` (V3 nodes) and
``WEB_DIRECTORY`` (the box editor). Importing the package outside ComfyUI (tests, tools) works too:
the node glue is only loaded when the host's ``comfy_api`` is importable.
"""
import importlib.util
import logging

WEB_DIRECTORY = "./web/js"

if importlib.util.find_spec("comfy_api") is not None:
    from .nodes import comfy_entrypoint  # noqa: F401
else:
    logging.getLogger(__name__).debug("ComfyUI not importable: DEIG nodes are not registered")

__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
