"""Plain-torch core of DEIG (Detail-Enhanced Instance Generation with Fine-Grained Semantic Control,
AAAI 2026, arXiv 2602.18282): models, masks, attention, conversion. Never imports ComfyUI.

"Official" in this package means the authors' public implementation, ``github.com/dushy5/DEIG`` at
commit d98a76a (2026-02-23); each module that follows it names the file it follows in its header.
"""
