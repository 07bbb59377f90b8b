"""Plain-torch core of DEIG: models, masks, attention, conversion. Never imports ComfyUI."""
