"""The example workflows in example_workflows/ (ComfyUI UI format), built from compact graph
descriptions, each with a ``<name>.jpg`` thumbnail for the template browser.

Written by ``python scripts/make_workflows.py``; the tests compare the files with :func:`generated_files`.

Each workflow is a list of nodes: (id, type, [(input, (source id, output slot))...], widgets_values).
Socket types come from SOCKETS below (the same names and types the nodes declare). Loader nodes carry
the files they load in ``properties.models`` (name, url, directory), as ComfyUI's own templates do, so
the frontend shows a user without the weights where to get them (MODEL_SOURCES). The thumbnail is the
workflow's layout with numbered labels and the example's title, made to read at card size (devkit/thumbnails.py).
"""
from __future__ import annotations

import io
import json

from .paths import REPO_ROOT

OUT = REPO_ROOT / "example_workflows"

# node type -> (inputs [(name, type)], outputs [(name, type)])
SOCKETS = {
    "CheckpointLoaderSimple": ([], [("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")]),
    "LoraLoader": ([("model", "MODEL"), ("clip", "CLIP")], [("MODEL", "MODEL"), ("CLIP", "CLIP")]),
    "EmptyLatentImage": ([], [("LATENT", "LATENT")]),
    "KSampler": ([("model", "MODEL"), ("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                  ("latent_image", "LATENT")], [("LATENT", "LATENT")]),
    "VAEDecode": ([("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
    "SaveImage": ([("images", "IMAGE")], []),
    "DEIG_ModelLoader": ([], [("deig_model", "DEIG_MODEL")]),
    "DEIG_T5Loader": ([], [("t5", "DEIG_T5")]),
    "DEIG_InstanceLayout": ([("masks", "MASK")], [("layout", "DEIG_LAYOUT")]),
    "DEIG_Encode": ([("t5", "DEIG_T5"), ("layout", "DEIG_LAYOUT")], [("CONDITIONING", "CONDITIONING")]),
    "DEIG_EncodeNegative": ([("t5", "DEIG_T5")], [("CONDITIONING", "CONDITIONING")]),
    "DEIG_Apply": ([("model", "MODEL"), ("deig_model", "DEIG_MODEL")], [("MODEL", "MODEL")]),
    "DEIG_PreviewLayout": ([("image", "IMAGE"), ("layout", "DEIG_LAYOUT")], [("IMAGE", "IMAGE")]),
    "LatentUpscaleBy": ([("samples", "LATENT")], [("LATENT", "LATENT")]),
    "ControlNetLoader": ([], [("CONTROL_NET", "CONTROL_NET")]),
    "LoadImage": ([], [("IMAGE", "IMAGE"), ("MASK", "MASK")]),
    "ControlNetApplyAdvanced": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                                 ("control_net", "CONTROL_NET"), ("image", "IMAGE"), ("vae", "VAE")],
                                [("positive", "CONDITIONING"), ("negative", "CONDITIONING")]),
    "GLIGENLoader": ([], [("GLIGEN", "GLIGEN")]),
    "CLIPTextEncode": ([("clip", "CLIP")], [("CONDITIONING", "CONDITIONING")]),
    "DEIG_LayoutToGLIGEN": ([("conditioning", "CONDITIONING"), ("clip", "CLIP"), ("gligen", "GLIGEN"),
                             ("layout", "DEIG_LAYOUT"), ("latent", "LATENT")], [("CONDITIONING", "CONDITIONING")]),
    "Note": ([], []),  # frontend-only: carries the workflow's description, never sent to the server
}
# Files with a published download, by widget value: where ComfyUI's frontend may fetch them from and
# the models/ folder they go in. Only real addresses: SD1.5 as in the frontend's own default workflow,
# DEIG's model.pth from the release the official repository (dushy5/DEIG) points to. Files without one
# (a community fine-tune, a LoRA, the T5 folder) are described in the workflow's Note instead.
SD15 = "v1-5-pruned-emaonly-fp16.safetensors"
DEIG_WEIGHTS = "model.pth"
GLIGEN = "gligen_sd14_textbox_pruned.safetensors"
MODEL_SOURCES = {
    GLIGEN: ("https://huggingface.co/comfyanonymous/GLIGEN_pruned_safetensors/resolve/main/" + GLIGEN, "gligen"),
    SD15: ("https://huggingface.co/Comfy-Org/stable-diffusion-v1-5-archive/resolve/main/" + SD15, "checkpoints"),
    DEIG_WEIGHTS: ("https://huggingface.co/dushy5/DEIG/resolve/main/model.pth", "deig"),
}
POSE_IMAGE = "deig_pose.png"  # what the ControlNet example's Load Image names (a user loads their own)
NEGATIVE = "low quality, blurry, deformed, extra limbs, watermark, text"
# dushy5/DEIG inference.py: its default negative prompt, 40 DDIM steps on timesteps 976..1, CFG 7.5
OFFICIAL_NEGATIVE = ("longbody, lowres, distorted face, bad anatomy, bad hands, missing fingers, extra digit, "
                     "fewer digits, cropped, worst quality, low quality")
OFFICIAL_SAMPLER = [40, 7.5, "ddim", "ddim_uniform"]


def layout(*items):
    return json.dumps([{"box": list(box), "text": text} for box, text in items], ensure_ascii=False)


def deig_graph(ckpt, prompt, instances, note, width=512, height=512, seed=42, lora=None, negative=NEGATIVE,
               sampler=(30, 7.5, "euler", "normal"), extend=None):
    """The standard DEIG graph; with ``lora`` a LoraLoader sits between the checkpoint and DEIG Apply;
    ``note`` (the workflow's description) becomes a Note node."""
    model_src = (1, 0)
    nodes = [(15, "Note", [], [note]), (1, "CheckpointLoaderSimple", [], [ckpt])]
    if lora:
        nodes.append((13, "LoraLoader", [("model", (1, 0)), ("clip", (1, 1))], [lora, 0.8, 0.8]))
        model_src = (13, 0)
    nodes += [
        (2, "DEIG_ModelLoader", [], [DEIG_WEIGHTS, "auto"]),
        (3, "DEIG_T5Loader", [], ["flan-t5-xl", "auto"]),
        (4, "DEIG_InstanceLayout", [], [layout(*instances), width, height]),
        (5, "DEIG_Apply", [("model", model_src), ("deig_model", (2, 0))], [1.0, 0.0, 1.0, 0.0]),
        (6, "DEIG_Encode", [("t5", (3, 0)), ("layout", (4, 0))], [prompt]),
        (7, "DEIG_EncodeNegative", [("t5", (3, 0))], [negative]),
        (8, "EmptyLatentImage", [], [width, height, 1]),
        (9, "KSampler", [("model", (5, 0)), ("positive", (6, 0)), ("negative", (7, 0)), ("latent_image", (8, 0))],
         [seed, "fixed", *sampler, 1.0]),
        (10, "VAEDecode", [("samples", (9, 0)), ("vae", (1, 2))], []),
        (11, "SaveImage", [("images", (10, 0))], ["DEIG"]),
        (12, "DEIG_PreviewLayout", [("image", (10, 0)), ("layout", (4, 0))], []),
        (14, "SaveImage", [("images", (12, 0))], ["DEIG_layout"]),
    ]
    return extend(nodes) if extend else nodes


def gligen_graph(ckpt, prompt, instances, note, width=512, height=512, seed=42, negative=NEGATIVE,
                 sampler=(30, 7.5, "euler", "normal")):
    """The GLIGEN baseline with a DEIG layout: the caption by CLIPTextEncode, every instance added as a
    GLIGEN text box by DEIG Layout to GLIGEN, the plain checkpoint's model sampled."""
    return [
        (15, "Note", [], [note]), (1, "CheckpointLoaderSimple", [], [ckpt]),
        (21, "GLIGENLoader", [], [GLIGEN]),
        (4, "DEIG_InstanceLayout", [], [layout(*instances), width, height]),
        (22, "CLIPTextEncode", [("clip", (1, 1))], [prompt]),
        (23, "CLIPTextEncode", [("clip", (1, 1))], [negative]),
        (8, "EmptyLatentImage", [], [width, height, 1]),
        (24, "DEIG_LayoutToGLIGEN", [("conditioning", (22, 0)), ("clip", (1, 1)), ("gligen", (21, 0)),
                                     ("layout", (4, 0)), ("latent", (8, 0))], []),
        (9, "KSampler", [("model", (1, 0)), ("positive", (24, 0)), ("negative", (23, 0)), ("latent_image", (8, 0))],
         [seed, "fixed", *sampler, 1.0]),
        (10, "VAEDecode", [("samples", (9, 0)), ("vae", (1, 2))], []),
        (11, "SaveImage", [("images", (10, 0))], ["GLIGEN"]),
        (12, "DEIG_PreviewLayout", [("image", (10, 0)), ("layout", (4, 0))], []),
        (14, "SaveImage", [("images", (12, 0))], ["GLIGEN_layout"]),
    ]


def _relink(nodes, nid, **links):
    """Point some inputs of node ``nid`` at other sources."""
    return [(i, t, [(name, links.get(name, src)) for name, src in ins], w) if i == nid else (i, t, ins, w)
            for i, t, ins, w in nodes]


def with_controlnet(nodes):
    """DEIG Encode's conditionings through ControlNetApplyAdvanced (a pose image) into the KSampler."""
    nodes = _relink(nodes, 9, positive=(18, 0), negative=(18, 1))
    return nodes + [
        (16, "ControlNetLoader", [], ["control_v11p_sd15_openpose.safetensors"]),
        (17, "LoadImage", [], [POSE_IMAGE, "image"]),
        (18, "ControlNetApplyAdvanced", [("positive", (6, 0)), ("negative", (7, 0)), ("control_net", (16, 0)),
                                         ("image", (17, 0)), ("vae", (1, 2))], [1.0, 0.0, 0.8]),
    ]


def with_hires_fix(nodes):
    """A second KSampler pass on the 1.5x upscaled latent with the same DEIG model and conditionings."""
    nodes = _relink(nodes, 10, samples=(20, 0))
    return nodes + [
        (19, "LatentUpscaleBy", [("samples", (9, 0))], ["nearest-exact", 1.5]),
        (20, "KSampler", [("model", (5, 0)), ("positive", (6, 0)), ("negative", (7, 0)), ("latent_image", (19, 0))],
         [42, "fixed", 20, 7.5, "euler", "normal", 0.5]),
    ]


# Columns with room for each node's height in both renderers (the Vue renderer draws most nodes taller;
# the loaders grow by a few lines when their model file is missing: web/js/deig_model_file_note.js;
# the layout node grows downwards with its list and notes, so nothing sits below it). The browser test
# test_box_editor_newuser checks that no two node rectangles overlap.
POSITIONS = {15: (40, -340), 1: (40, 40), 13: (40, 240), 2: (40, 480), 3: (40, 740), 5: (40, 1000), 4: (380, 40),
             6: (940, 40), 7: (940, 290), 8: (940, 500), 9: (1300, 40), 10: (1660, 40), 11: (1660, 220),
             12: (1660, 590), 14: (2000, 590), 16: (2000, 40), 17: (1300, 460), 18: (2000, 200), 19: (2000, 40),
             20: (1300, 460), 21: (40, 480), 22: (940, 40), 23: (940, 290), 24: (40, 660)}
SIZES = {"DEIG_InstanceLayout": (440, 820), "KSampler": (320, 262), "SaveImage": (300, 300),
         "DEIG_Encode": (320, 180), "DEIG_EncodeNegative": (320, 140), "Note": (740, 300),
         "CLIPTextEncode": (320, 140), "DEIG_LayoutToGLIGEN": (300, 160),
         "LoadImage": (320, 480)}  # the Vue renderer draws Load Image with its preview taller than classic


def node_properties(ntype, widgets) -> dict:
    """A node's properties: its S&R name, and ``models`` for each widget value with a known source."""
    props = {"Node name for S&R": ntype}
    models = [{"name": v, "url": MODEL_SOURCES[v][0], "directory": MODEL_SOURCES[v][1]}
              for v in widgets if isinstance(v, str) and v in MODEL_SOURCES]
    if models:
        props["models"] = models
    return props


def ui_workflow(nodes, title):
    links, link_id = [], 0
    out_links = {}
    ui_nodes = []
    for order, (nid, ntype, inputs, widgets) in enumerate(nodes):
        in_decl, out_decl = SOCKETS[ntype]
        connected = dict(inputs)
        ui_inputs = []
        for name, typ in in_decl:
            link = None
            if name in connected:
                link_id += 1
                src, slot = connected[name]
                link = link_id
                slot_pos = [n for n, _ in in_decl].index(name)
                links.append([link_id, src, slot, nid, slot_pos, typ])
                out_links.setdefault((src, slot), []).append(link_id)
            ui_inputs.append({"name": name, "type": typ, "link": link})
        ui_nodes.append({"id": nid, "type": ntype, "pos": list(POSITIONS[nid]), "size": list(SIZES.get(ntype, (300, 110))),
                         "flags": {}, "order": order, "mode": 0, "inputs": ui_inputs,
                         "outputs": [{"name": n, "type": t, "slot_index": i} for i, (n, t) in enumerate(out_decl)],
                         "properties": node_properties(ntype, widgets), "widgets_values": widgets})
    for node in ui_nodes:
        for i, out in enumerate(node["outputs"]):
            out["links"] = out_links.get((node["id"], i), [])
    return {"last_node_id": max(n["id"] for n in ui_nodes), "last_link_id": link_id, "nodes": ui_nodes,
            "links": links, "groups": [], "config": {}, "extra": {"info": {"name": title}},  # no view: opens fitted
            "version": 0.4}


DEIG_MODELS = """\
* `models/deig/model.pth`: the DEIG weights (`model.pth` of the `dushy5/DEIG` release; or convert it
  once with `python -m deig_core.convert model.pth deig.safetensors --dtype fp16` and pick that file)
* `models/text_encoders/flan-t5-xl/`: the Flan-T5-XL encoder folder of the same release (`T5-XL/`)"""

DESCRIPTIONS = {
    "deig_three_people": ("DEIG: three people on a beach, the paper's example", """\
The example of the DEIG paper: three people on a beach, each with a long description of clothes,
colours and accessories, 512x512, sampled as the official inference does: DDIM 40 steps on the uniform
timesteps (`ddim_uniform`), CFG 7.5, the official negative prompt, the fusers on for the whole
sampling (`alpha_type` [1, 0, 0]).

Models:
* `models/checkpoints/v1-5-pruned-emaonly-fp16.safetensors`: Stable Diffusion 1.5 (any SD1.5 checkpoint works)
""" + DEIG_MODELS),
    "deig_six_donuts": ("DEIG: six donuts, one glaze each", """\
Six donuts in a 3x2 grid, each with its own glaze and topping: the attribute-binding case (no colour
may leak into a neighbour), 512x512.

Models:
* `models/checkpoints/v1-5-pruned-emaonly-fp16.safetensors`: Stable Diffusion 1.5
""" + DEIG_MODELS),
    "deig_community_checkpoint_lora": ("DEIG: community checkpoint + LoRA", """\
A community SD1.5 fine-tune with a LoRA (strength 0.8) before DEIG Apply: a living room with four
described objects, 768x512 (a non-square latent).

Models:
* `models/checkpoints/realisticVisionV60B1_v51VAE.safetensors`: Realistic Vision 6.0 (or any SD1.5
  fine-tune: pick yours in Load Checkpoint)
* `models/loras/add_detail.safetensors`: an SD1.5 LoRA (any SD1.5 LoRA works; LoRA loaders may also
  sit after DEIG Apply)
""" + DEIG_MODELS),
    "deig_controlnet_pose": ("DEIG: two dancers posed by ControlNet", """\
The people of a layout posed by an OpenPose ControlNet: DEIG Encode's conditionings go through Apply
ControlNet (strength 1.0 until 80 % of the sampling) into the KSampler; the ControlNet sees DEIG's text
context. Load your pose image (or a depth map with a depth ControlNet) in Load Image; draw the boxes
around the poses, 512x512.

Models:
* `models/checkpoints/v1-5-pruned-emaonly-fp16.safetensors`: Stable Diffusion 1.5
* `models/controlnet/control_v11p_sd15_openpose.safetensors`: ControlNet 1.1 OpenPose for SD1.5 (or
  `control_v11f1p_sd15_depth.safetensors` with a depth map; any SD1.5 ControlNet works)
""" + DEIG_MODELS),
    "deig_hires_fix": ("DEIG: cat and dog, hires fix", """\
A second pass at 1.5x: KSampler -> Upscale Latent By 1.5 -> KSampler (denoise 0.5) with the same DEIG
model and conditionings; the layout follows the new size. 512x768 -> 768x1152.

Models:
* `models/checkpoints/v1-5-pruned-emaonly-fp16.safetensors`: Stable Diffusion 1.5
""" + DEIG_MODELS),
    "gligen_baseline": ("GLIGEN baseline: the same layout through GLIGEN", """The paper's baseline on your checkpoint: the caption through CLIP Text Encode, and every box of the DEIG
layout added as a GLIGEN text box (its text encoded by the checkpoint's CLIP) by DEIG Layout to GLIGEN,
then the plain model sampled. Run a bench through it with `python -m deig_eval run --caption-input
22.text` and score it as a DEIG run to compare the two.

Models:
* `models/checkpoints/v1-5-pruned-emaonly-fp16.safetensors`: Stable Diffusion 1.5
* `models/gligen/gligen_sd14_textbox_pruned.safetensors`: the GLIGEN textbox model"""),
}

WORKFLOWS = {
    "gligen_baseline": dict(
        build=gligen_graph, ckpt=SD15,
        prompt="three friends standing on a sunny beach, photo, detailed",
        instances=[((0.04, 0.18, 0.34, 0.98), "a woman in a white shirt and blue shorts"),
                   ((0.36, 0.12, 0.66, 0.98), "a tall man in a green hoodie and black jeans"),
                   ((0.68, 0.22, 0.97, 0.98), "a girl in a yellow summer dress and a straw hat")]),
    "deig_three_people": dict(
        negative=OFFICIAL_NEGATIVE, sampler=OFFICIAL_SAMPLER,
        ckpt=SD15,
        prompt="three friends standing on a sunny beach, photo, detailed",
        instances=[((0.04, 0.18, 0.34, 0.98), "a woman in a white shirt with red accents, blue shorts, white shoes and sunglasses"),
                   ((0.36, 0.12, 0.66, 0.98), "a tall man in a green hoodie, black jeans and red sneakers, with a brown beard"),
                   ((0.68, 0.22, 0.97, 0.98), "a girl in a yellow summer dress with white polka dots and a straw hat")]),
    "deig_six_donuts": dict(
        ckpt=SD15,
        prompt="six donuts on a white marble table, top view, food photography",
        instances=[((0.05, 0.08, 0.33, 0.45), "a donut with pink strawberry glaze and rainbow sprinkles"),
                   ((0.36, 0.08, 0.64, 0.45), "a donut with dark chocolate glaze and white chocolate drizzle"),
                   ((0.67, 0.08, 0.95, 0.45), "a plain sugar-dusted donut with a golden brown crust"),
                   ((0.05, 0.53, 0.33, 0.92), "a donut with bright green matcha glaze and crushed pistachios"),
                   ((0.36, 0.53, 0.64, 0.92), "a donut with blue vanilla icing and silver star sprinkles"),
                   ((0.67, 0.53, 0.95, 0.92), "a donut with caramel glaze and crunchy sea salt flakes")]),
    "deig_community_checkpoint_lora": dict(
        ckpt="realisticVisionV60B1_v51VAE.safetensors",
        prompt="a cosy living room interior, warm evening light, photorealistic",
        instances=[((0.06, 0.5, 0.56, 0.94), "a grey fabric sofa with two mustard-yellow cushions"),
                   ((0.6, 0.62, 0.92, 0.95), "a black cat asleep on a round woven rug"),
                   ((0.72, 0.08, 0.95, 0.6), "a tall monstera plant in a white ceramic pot"),
                   ((0.2, 0.08, 0.5, 0.4), "a framed oil painting of a sailing boat at sunset")],
        width=768, height=512, lora="add_detail.safetensors"),
    "deig_controlnet_pose": dict(
        ckpt=SD15, extend=with_controlnet,
        prompt="two dancers on a stage, spotlight, photo",
        instances=[((0.08, 0.1, 0.48, 0.97), "a dancer in a flowing red dress with a golden hair clip"),
                   ((0.52, 0.08, 0.92, 0.97), "a dancer in a black suit with a white shirt and a bow tie")]),
    "deig_hires_fix": dict(
        ckpt=SD15, extend=with_hires_fix, width=512, height=768,
        prompt="a cat and a dog sitting on a garden bench, summer afternoon, photo",
        instances=[((0.06, 0.35, 0.5, 0.85), "a ginger cat with green eyes and a blue collar"),
                   ((0.48, 0.25, 0.95, 0.88), "a black labrador with a red bandana")]),
}


def note_text(name: str) -> str:
    """What the workflow's Note node says: its title and the models it expects."""
    title, text = DESCRIPTIONS[name]
    return f"{title}\n\n{text}"


def readme() -> str:
    parts = ["# Example workflows\n\n"
             "Generated by `python scripts/make_workflows.py` from `devkit/example_workflows.py` (edit that, not\n"
             "the JSON or the .jpg thumbnails). ComfyUI lists them in its template browser under this pack; each\n"
             "carries this description in a Note node, and its loaders name the files with a public download\n"
             "(node `properties.models`), so the frontend shows where they go. The model names are the widgets'\n"
             "defaults: pick your own files in the loaders.\n"]
    for name, (title, text) in DESCRIPTIONS.items():
        parts.append(f"\n## `{name}.json`: {title.split(': ', 1)[1]}\n\n{text}\n")
    return "".join(parts)


def card_title(name: str) -> str:
    """The example's title as its thumbnail shows it (its DESCRIPTIONS title without "DEIG: ")."""
    short = DESCRIPTIONS[name][0].split(": ", 1)[1]
    return short[0].upper() + short[1:]


def thumbnail_geometry(workflow: dict, name: str):
    """Where the thumbnail of workflow ``name`` draws its layout (its DEIG_InstanceLayout node), labels
    and title: ``devkit.thumbnails.card_geometry``."""
    from comfyui_deig.deig_core.layout import parse_layout

    from .thumbnails import card_geometry

    node = next(n for n in workflow["nodes"] if n["type"] == "DEIG_InstanceLayout")
    value, width, height = node["widgets_values"][:3]
    instances = parse_layout(value)
    return card_geometry([i.box for i in instances], [i.text for i in instances], width, height, card_title(name))


def thumbnail(workflow: dict, name: str):
    """The template browser's card picture of workflow ``name``: a PIL image."""
    from .thumbnails import draw_card

    return draw_card(thumbnail_geometry(workflow, name))


def jpeg_bytes(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def generated_files() -> dict:
    """File name in example_workflows/ -> its text (str) or, for thumbnails, a PIL image."""
    files = {}
    for name, graph in WORKFLOWS.items():
        graph = dict(graph)
        wf = ui_workflow(graph.pop("build", deig_graph)(note=note_text(name), **graph), DESCRIPTIONS[name][0])
        files[f"{name}.json"] = json.dumps(wf, indent=1, ensure_ascii=False) + "\n"
        files[f"{name}.jpg"] = thumbnail(wf, name)
    files["README.md"] = readme()
    return files


def write_all() -> None:
    OUT.mkdir(exist_ok=True)
    for name, content in generated_files().items():
        if isinstance(content, str):
            (OUT / name).write_text(content, encoding="utf-8")
        else:
            (OUT / name).write_bytes(jpeg_bytes(content))
