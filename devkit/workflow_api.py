"""UI workflow -> API prompt for the scripts and tests; the one implementation is ``deig_eval.workflow``."""
from comfyui_deig.deig_eval.workflow import set_inputs, to_api  # noqa: F401
