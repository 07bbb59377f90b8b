"""Benchmarks through ComfyUI: run a layout file through one or more ComfyUI servers (``run``) and score
the images with the paper's metrics (``score``). ``python -m deig_eval --help``.

Never imports ComfyUI: servers are reached over HTTP/websocket (aiohttp, which ComfyUI ships). The
scorers need the optional extras in ``deig_eval/requirements-eval.txt``.
"""
