"""The paper's metrics (DEIG-Bench: MAA per attribute type and mIoU, judged by Qwen2.5-VL; MIG-Bench:
instance success rate and mIoU per level, GroundingDINO + SAM + colour check; CLIP score).

``boxes``, ``color`` and ``tally`` are plain arithmetic (numpy); ``models`` loads the transformers
models from local folders and is the only module that needs the optional extras.
"""
