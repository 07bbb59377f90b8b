"""DEIG inside the graphs people build, on a real server with synthetic full-size SD1.5 models:
linked inputs, host range checks, ControlNet, hires fix, img2img and inpainting, other model patches,
conditioning nodes, batches and lists of layouts, degenerate layouts. Small images, 1-2 steps."""
import json

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

from devkit.example_models import CHECKPOINTS, CONTROLNET, LORA, install_example_models
from devkit.server import PromptError
from devkit.synthetic_models import _link, sd15_checkpoint

INPAINT_CKPT = "deig_synthetic_sd15_inpainting.safetensors"
TWO = json.dumps([{"box": [0.05, 0.1, 0.5, 0.95], "text": "a woman in a red coat"},
                  {"box": [0.5, 0.2, 0.95, 0.9], "text": "a brown dog"}])
ONE = json.dumps([{"box": [0.2, 0.2, 0.8, 0.8], "text": "a blue vase"}])


@pytest.fixture(scope="module")
def server(comfy_server, models_dir):
    install_example_models(models_dir)
    _link(sd15_checkpoint(in_channels=9), models_dir / "checkpoints" / INPAINT_CKPT)
    return comfy_server


def graph(layout=TWO, width=64, height=64, batch=1, steps=1, seed=3, ckpt=CHECKPOINTS[0], apply=None):
    """The standard DEIG graph in API form; node ids are names. ``apply`` overrides DEIG Apply inputs."""
    return {
        "ckpt": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "deig": {"class_type": "DEIG_ModelLoader", "inputs": {"deig_name": "deig.safetensors", "dtype": "auto"}},
        "t5": {"class_type": "DEIG_T5Loader", "inputs": {"t5_name": "flan-t5-xl", "dtype": "auto"}},
        "layout": {"class_type": "DEIG_InstanceLayout", "inputs": {"layout": layout, "width": width, "height": height}},
        "apply": {"class_type": "DEIG_Apply", "inputs": {
            "model": ["ckpt", 0], "deig_model": ["deig", 0], "strength": 1.0, "start_percent": 0.0,
            "end_percent": 1.0, "fade_percent": 0.0, **(apply or {})}},
        "pos": {"class_type": "DEIG_Encode", "inputs": {"t5": ["t5", 0], "prompt": "two friends in a park",
                                                         "layout": ["layout", 0]}},
        "neg": {"class_type": "DEIG_EncodeNegative", "inputs": {"t5": ["t5", 0], "negative": "lowres"}},
        "latent": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": batch}},
        "sampler": {"class_type": "KSampler", "inputs": {
            "model": ["apply", 0], "positive": ["pos", 0], "negative": ["neg", 0], "latent_image": ["latent", 0],
            "seed": seed, "steps": steps, "cfg": 7.5, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
        "decode": {"class_type": "VAEDecode", "inputs": {"samples": ["sampler", 0], "vae": ["ckpt", 2]}},
        "save": {"class_type": "SaveImage", "inputs": {"images": ["decode", 0], "filename_prefix": "graphs"}},
    }


def images(server, prompt, timeout=600):
    entry = server.run(prompt, timeout=timeout)
    return [np.asarray(Image.open(f).convert("RGB")) for f in server.output_files(entry)]


def assert_normal(img):
    """Not black, not flat: NaN/inf latents decode to a black (0) PNG."""
    assert img.std() > 1.0 and img.max() > 0, "image is black or flat"


def refused(server, prompt) -> str:
    with pytest.raises(PromptError) as err:
        server.run(prompt, timeout=600)
    return json.dumps(err.value.payload)


# ------------------------------------------------------------------------------------ inputs
def test_linked_layout_string_is_accepted(server):
    bench = {"results": [{"caption": "a vase", "instances": [{"bbox": [0.2, 0.2, 0.8, 0.8], "description": "a vase"}]}]}
    prompt = {
        "bench": {"class_type": "DEIG_LayoutFromBench", "inputs": {"bench_json": json.dumps(bench), "index": 0}},
        "layout": {"class_type": "DEIG_InstanceLayout", "inputs": {"layout": ["bench", 2], "width": 512, "height": 512}},
        "out": {"class_type": "DEIG_LayoutToJSON", "inputs": {"layout": ["layout", 0]}},
    }
    entry = server.run(prompt, timeout=120)
    assert json.loads(entry["outputs"]["out"]["text"][0]) == [{"box": [0.2, 0.2, 0.8, 0.8], "text": "a vase"}]


def test_linked_percent_is_accepted(server):
    prompt = graph(apply={"end_percent": ["pct", 0]})
    prompt["pct"] = {"class_type": "PrimitiveFloat", "inputs": {"value": 0.5}}
    assert_normal(images(server, prompt)[0])


@pytest.mark.parametrize("node, values, error", [
    ("layout", {"width": 3}, "value_smaller_than_min"),
    ("layout", {"height": 100000}, "value_bigger_than_max"),
    ("apply", {"strength": 50.0}, "value_bigger_than_max"),
    ("apply", {"end_percent": 7.0}, "value_bigger_than_max"),
])
def test_host_range_checks_deig_inputs(server, node, values, error):
    prompt = graph()
    prompt[node]["inputs"].update(values)
    with pytest.raises(PromptError) as err:
        server.submit(prompt)
    assert error in json.dumps(err.value.payload)


def test_start_after_end_names_the_node(server):
    assert "DEIG Apply: input 'start_percent'" in refused(server, graph(apply={"start_percent": 0.8,
                                                                                "end_percent": 0.2}))


# ------------------------------------------------------------------------------------ ControlNet, passes
def test_controlnet_apply_advanced_on_deig_conditioning(server):
    prompt = graph(steps=2)
    plain = images(server, prompt)[0]
    prompt.update({
        "cn": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": CONTROLNET}},
        "hint": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0xFFFFFF}},
        "cnapply": {"class_type": "ControlNetApplyAdvanced", "inputs": {
            "positive": ["pos", 0], "negative": ["neg", 0], "control_net": ["cn", 0], "image": ["hint", 0],
            "strength": 1.0, "start_percent": 0.0, "end_percent": 0.5}},
    })
    prompt["sampler"]["inputs"].update(positive=["cnapply", 0], negative=["cnapply", 1])
    controlled = images(server, prompt)[0]
    assert_normal(controlled)
    assert not np.array_equal(plain, controlled)


def test_hires_fix_second_pass_non_square(server):
    prompt = graph(width=64, height=96)
    prompt["upscale"] = {"class_type": "LatentUpscaleBy", "inputs": {"samples": ["sampler", 0],
                                                                     "upscale_method": "nearest-exact", "scale_by": 1.5}}
    prompt["second"] = {"class_type": "KSampler", "inputs": dict(prompt["sampler"]["inputs"], latent_image=["upscale", 0],
                                                                 denoise=0.5, steps=2)}
    prompt["decode"]["inputs"]["samples"] = ["second", 0]
    (img,) = images(server, prompt)
    assert img.shape == (144, 96, 3)
    assert_normal(img)


def _image_and_mask(prompt):
    prompt["pixels"] = {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1,
                                                               "color": 0x3366AA}}
    prompt["mask0"] = {"class_type": "SolidMask", "inputs": {"value": 0.0, "width": 64, "height": 64}}
    prompt["mask1"] = {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": 32, "height": 32}}
    prompt["mask"] = {"class_type": "MaskComposite", "inputs": {"destination": ["mask0", 0], "source": ["mask1", 0],
                                                                "x": 16, "y": 16, "operation": "add"}}


@pytest.mark.parametrize("kind", ["img2img", "SetLatentNoiseMask", "VAEEncodeForInpaint", "InpaintModelConditioning"])
def test_img2img_and_inpainting(server, kind):
    prompt = graph(ckpt=INPAINT_CKPT if kind == "InpaintModelConditioning" else CHECKPOINTS[0], steps=2)
    _image_and_mask(prompt)
    prompt["encoded"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["pixels", 0], "vae": ["ckpt", 2]}}
    latent = ["encoded", 0]
    if kind == "SetLatentNoiseMask":
        prompt["noisemask"] = {"class_type": "SetLatentNoiseMask", "inputs": {"samples": latent, "mask": ["mask", 0]}}
        latent = ["noisemask", 0]
    elif kind == "VAEEncodeForInpaint":
        prompt["encoded"] = {"class_type": "VAEEncodeForInpaint", "inputs": {
            "pixels": ["pixels", 0], "vae": ["ckpt", 2], "mask": ["mask", 0], "grow_mask_by": 6}}
    elif kind == "InpaintModelConditioning":
        prompt["inpaint"] = {"class_type": "InpaintModelConditioning", "inputs": {
            "positive": ["pos", 0], "negative": ["neg", 0], "vae": ["ckpt", 2], "pixels": ["pixels", 0],
            "mask": ["mask", 0], "noise_mask": True}}
        prompt["sampler"]["inputs"].update(positive=["inpaint", 0], negative=["inpaint", 1])
        latent = ["inpaint", 2]
    prompt["sampler"]["inputs"].update(latent_image=latent, denoise=1.0 if kind != "img2img" else 0.6)
    assert_normal(images(server, prompt)[0])


# ------------------------------------------------------------------------------------ model patches
PATCHES = {
    "FreeU_V2": {"b1": 1.3, "b2": 1.4, "s1": 0.9, "s2": 0.2},
    "PerturbedAttentionGuidance": {"scale": 3.0},
    "SelfAttentionGuidance": {"scale": 0.5, "blur_sigma": 2.0},
    "PatchModelAddDownscale": {"block_number": 3, "downscale_factor": 2.0, "start_percent": 0.0, "end_percent": 1.0,
                               "downscale_after_skip": True, "downscale_method": "bicubic", "upscale_method": "bicubic"},
    "HyperTile": {"tile_size": 32, "swap_size": 2, "max_depth": 0, "scale_depth": False},
    "RescaleCFG": {"multiplier": 0.7},
    "LoraLoaderModelOnly": {"lora_name": LORA, "strength_model": 0.8},
}
NO_OP = {  # settings at which the patch does nothing: the image must equal DEIG alone
    "PerturbedAttentionGuidance": {"scale": 0.0},
    "PatchModelAddDownscale": dict(PATCHES["PatchModelAddDownscale"], start_percent=1.0, end_percent=1.0),
    "HyperTile": dict(PATCHES["HyperTile"], tile_size=256),
    "LoraLoaderModelOnly": {"lora_name": LORA, "strength_model": 0.0},
}


def with_patch(prompt, node, values, before_deig):
    prompt["patch"] = {"class_type": node, "inputs": dict(values)}
    if before_deig:
        prompt["patch"]["inputs"]["model"] = ["ckpt", 0]
        prompt["apply"]["inputs"]["model"] = ["patch", 0]
    else:
        prompt["patch"]["inputs"]["model"] = ["apply", 0]
        prompt["sampler"]["inputs"]["model"] = ["patch", 0]
    return prompt


@pytest.mark.parametrize("before_deig", [False, True], ids=["after", "before"])
@pytest.mark.parametrize("node", sorted(PATCHES))
def test_model_patch_runs_with_deig(server, node, before_deig):
    # FreeU normalises by each channel's spatial range and SAG reshapes the middle block's attention:
    # both need a 2x2 grid at the deepest level
    size = 128 if node in ("FreeU_V2", "SelfAttentionGuidance") else 64
    assert_normal(images(server, with_patch(graph(width=size, height=size), node, PATCHES[node], before_deig))[0])


@pytest.mark.parametrize("node", sorted(NO_OP))
def test_no_op_patch_gives_the_deig_image(server, node):
    alone = images(server, graph())[0]
    assert np.array_equal(images(server, with_patch(graph(), node, NO_OP[node], False))[0], alone)


# ------------------------------------------------------------------------------------ conditioning nodes
def second_encode(prompt, layout=ONE):
    prompt["layout2"] = {"class_type": "DEIG_InstanceLayout", "inputs": {"layout": layout, "width": 64, "height": 64}}
    prompt["pos2"] = {"class_type": "DEIG_Encode", "inputs": {"t5": ["t5", 0], "prompt": "a vase on a table",
                                                               "layout": ["layout2", 0]}}


def timestep_range(prompt, name, cond, start, end):
    prompt[name] = {"class_type": "ConditioningSetTimestepRange", "inputs": {"conditioning": [cond, 0],
                                                                             "start": start, "end": end}}


def combine(prompt, name, first, second):
    prompt[name] = {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": [first, 0],
                                                                    "conditioning_2": [second, 0]}}
    prompt["sampler"]["inputs"]["positive"] = [name, 0]


def test_combine_and_timestep_ranges_of_deig_conds(server):
    """Combined DEIG conds both count; one whose timestep range covers no step counts for nothing: the
    image is exactly the other one's alone."""
    alone = images(server, graph(steps=2))[0]
    prompt = graph(steps=2)
    second_encode(prompt)
    timestep_range(prompt, "always", "pos", 0.0, 1.0)
    timestep_range(prompt, "never", "pos2", 1.0, 1.0)  # starts at the end: sigma 0, after every step
    combine(prompt, "both", "always", "never")
    assert np.array_equal(images(server, prompt)[0], alone)
    prompt["never"]["inputs"]["start"] = 0.0  # now it covers every step too
    both = images(server, prompt)[0]
    assert_normal(both)
    assert np.abs(both.astype(int) - alone).mean() > 1.0, "the second DEIG cond did not count"


def sampled_latent(server, prompt) -> np.ndarray:
    """The KSampler's latent (SaveLatent instead of decode and save): (4, H/8, W/8)."""
    prompt.pop("decode")
    prompt["save"] = {"class_type": "SaveLatent", "inputs": {"samples": ["sampler", 0],
                                                             "filename_prefix": "latents/graphs"}}
    (path,) = server.output_files(server.run(prompt, timeout=600))
    return load_file(str(path))["latent_tensor"][0].numpy()


def test_mask_cond_works_and_area_cond_is_refused(server):
    """A DEIG cond masked to the left half, combined with one over the whole image: in one step the left
    half of the latent moves (against the whole-image cond alone) and the right half, where the mask is
    0, stays what the whole-image cond alone gives. A cond area (mask bounds, ConditioningSetArea) is
    refused."""
    alone = sampled_latent(server, graph())
    prompt = graph()
    second_encode(prompt)
    prompt["mask0"] = {"class_type": "SolidMask", "inputs": {"value": 0.0, "width": 64, "height": 64}}
    prompt["mask1"] = {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": 32, "height": 64}}
    prompt["mask"] = {"class_type": "MaskComposite", "inputs": {"destination": ["mask0", 0], "source": ["mask1", 0],
                                                                "x": 0, "y": 0, "operation": "add"}}
    prompt["masked"] = {"class_type": "ConditioningSetMask", "inputs": {
        "conditioning": ["pos2", 0], "mask": ["mask", 0], "strength": 1.0, "set_cond_area": "default"}}
    combine(prompt, "both", "pos", "masked")
    changed = np.abs(sampled_latent(server, json.loads(json.dumps(prompt))) - alone)  # (4, 8, 8)
    left, right = changed[..., :4].mean(), changed[..., 4:].mean()
    # the right half differs only by float sums batched differently (about 1e-5 of the latent's scale)
    assert left > 1e-2 * np.abs(alone).mean() and left > 100 * right, (left, right)
    prompt["masked"]["inputs"]["set_cond_area"] = "mask bounds"
    assert "ConditioningSetArea" in refused(server, prompt)
    prompt["masked"] = {"class_type": "ConditioningSetArea", "inputs": {
        "conditioning": ["pos", 0], "width": 32, "height": 32, "x": 0, "y": 0, "strength": 1.0}}
    prompt["sampler"]["inputs"]["positive"] = ["masked", 0]
    assert "ConditioningSetArea" in refused(server, prompt)


@pytest.mark.parametrize("node", ["ConditioningAverage", "ConditioningConcat"])
def test_mixing_text_into_a_deig_cond_is_refused(server, node):
    prompt = graph()
    prompt["clip"] = {"class_type": "CLIPTextEncode", "inputs": {"clip": ["ckpt", 1], "text": "a photo"}}
    inputs = {"conditioning_to": ["pos", 0], "conditioning_from": ["clip", 0]}
    if node == "ConditioningAverage":
        inputs["conditioning_to_strength"] = 0.5
    prompt["mixed"] = {"class_type": node, "inputs": inputs}
    prompt["sampler"]["inputs"]["positive"] = ["mixed", 0]
    assert node in refused(server, prompt)


# ------------------------------------------------------------------------------------ batches and lists
def test_batch_of_layouts_in_one_sampling_and_as_a_list(server):
    prompt = graph(batch=2)
    second_encode(prompt)
    prompt["batch"] = {"class_type": "DEIG_LayoutBatch", "inputs": {"layout_1": ["layout", 0],
                                                                   "layout_2": ["layout2", 0]}}
    prompt["pos"]["inputs"]["layout"] = ["batch", 0]
    batched = images(server, prompt)
    assert len(batched) == 2 and not np.array_equal(*batched)
    prompt["latent"]["inputs"]["batch_size"] = 3
    assert "latent batch" in refused(server, prompt)
    prompt["latent"]["inputs"]["batch_size"] = 1
    prompt["pos"]["inputs"]["layout"] = ["batch", 1]  # the list: the graph runs once per layout
    listed = images(server, prompt)
    assert len(listed) == 2 and not np.array_equal(*listed)


# ------------------------------------------------------------------------------------ degenerate layouts
@pytest.mark.parametrize("layout, size", [
    (json.dumps([{"box": [0, 0, 1, 1], "text": "a field of flowers"}]), (64, 64)),
    ("[]", (64, 64)),
    (json.dumps([{"box": [0.0, 0.0, 0.1, 0.1], "text": "a tiny bird"}]), (64, 64)),
    (TWO, (96, 64)),  # drawn for 512x512 (the node's size), sampled at another aspect ratio
], ids=["whole_image", "no_instances", "uncovered_regions", "other_aspect"])
def test_degenerate_layouts_give_a_normal_image(server, layout, size):
    prompt = graph(layout=layout, width=size[0], height=size[1], steps=2)
    prompt["layout"]["inputs"].update(width=512, height=512)
    assert_normal(images(server, prompt)[0])
