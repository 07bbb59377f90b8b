"""The real ComfyUI server starts with the pack, lists its nodes, and runs a plain SD1.5 workflow
on the full-size synthetic checkpoint through CheckpointLoaderSimple."""
import pytest
from PIL import Image

pytestmark = pytest.mark.e2e


def test_pack_nodes_are_registered(comfy_server):
    info = comfy_server.object_info()
    assert "DEIG_InstanceLayout" in info
    assert info["DEIG_InstanceLayout"]["category"].startswith("DEIG")
    assert "deig_synthetic_sd15.safetensors" in info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]


def sd15_prompt(ckpt: str, steps: int = 2, size: int = 64, seed: int = 1) -> dict:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "a red car on a street"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "blurry"}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": size, "height": size, "batch_size": 1}},
        "5": {"class_type": "KSampler", "inputs": {
            "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0],
            "seed": seed, "steps": steps, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "deig_smoke"}},
    }


def test_host_runs_plain_sd15_on_the_synthetic_checkpoint_with_the_pack_loaded(comfy_server):
    entry = comfy_server.run(sd15_prompt("deig_synthetic_sd15.safetensors"), timeout=600)
    assert entry["status"]["status_str"] == "success"
    files = comfy_server.output_files(entry)
    assert len(files) == 1 and files[0].is_file()
    assert files[0].parent == comfy_server.output_dir
    with Image.open(files[0]) as im:
        assert im.size == (64, 64)
