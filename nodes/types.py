"""Custom socket types shared by the DEIG nodes."""
from comfy_api.latest import io

DEIGLayout = io.Custom("DEIG_LAYOUT")
DEIGModel = io.Custom("DEIG_MODEL")
T5Encoder = io.Custom("DEIG_T5")
