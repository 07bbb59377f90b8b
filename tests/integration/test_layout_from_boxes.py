"""DEIG_LayoutFromBoxes: a MASK batch or BBOX boxes plus one description per line -> a layout; every
error names the line to fix. Run in process with the real comfy_api (V3 schema checked too)."""
import json

import pytest
import torch

from comfyui_deig.deig_core.layout import dump_layout, parse_layout
from comfyui_deig.nodes.nodes_layout_boxes import LayoutFromBoxes

pytestmark = pytest.mark.integration

TEXTS = "a red car\na small brown dog\n\n"   # trailing blank lines are ignored


def run(**kw):
    kw.setdefault("width", 512)
    kw.setdefault("height", 512)
    return LayoutFromBoxes.execute(**kw).args


def test_schema_is_a_v3_node_with_a_stable_id():
    schema = LayoutFromBoxes.define_schema()
    assert schema.node_id == "DEIG_LayoutFromBoxes" and schema.category == "DEIG"
    assert [i.id for i in schema.inputs] == ["descriptions", "masks", "bboxes", "width", "height", "image_index"]


def test_bbox_pixels_become_normalised_boxes_in_line_order():
    layout, text = run(descriptions=TEXTS, bboxes=[[64, 32, 128, 256], [256, 256, 200, 100]], width=512, height=512)
    assert [i.text for i in layout.instances] == ["a red car", "a small brown dog"]
    assert layout.instances[0].box == pytest.approx((0.125, 0.0625, 0.375, 0.5625))
    assert layout.instances[1].box == pytest.approx((0.5, 0.5, 456 / 512, 356 / 512))
    assert layout.masks is None
    assert text == dump_layout(parse_layout(text)) and json.loads(text)[1]["text"] == "a small brown dog"


def test_bbox_per_image_lists_pick_image_index_and_tensor_boxes_work():
    per_image = [[[0, 0, 10, 10]], [[100, 50, 100, 50], [0, 0, 64, 64]]]
    layout, _ = run(descriptions="a\nb", bboxes=per_image, image_index=1, width=400, height=200)
    assert layout.instances[0].box == pytest.approx((0.25, 0.25, 0.5, 0.5))
    layout, _ = run(descriptions="one", bboxes=torch.tensor([10.0, 20.0, 30.0, 40.0]), width=100, height=100)
    assert layout.instances[0].box == pytest.approx((0.1, 0.2, 0.4, 0.6))


def test_masks_give_bounding_boxes_and_region_masks():
    m = torch.zeros(2, 64, 128)
    m[0, 8:24, 16:48] = 1
    m[1, 32:64, 64:128] = 1
    layout, _ = run(descriptions=TEXTS, masks=m)
    assert layout.instances[0].box == pytest.approx((16 / 128, 8 / 64, 48 / 128, 24 / 64))
    assert layout.masks.shape == (2, 64, 128) and torch.equal(layout.masks, m)


@pytest.mark.parametrize("kw, needle", [
    (dict(descriptions="a\n\nb", bboxes=[[0, 0, 8, 8]] * 2), "line 2 is empty"),
    (dict(descriptions="", bboxes=[[0, 0, 8, 8]]), "no descriptions"),
    (dict(descriptions="a\nb\nc", bboxes=[[0, 0, 8, 8]] * 2), "3 lines but 2 boxes"),
    (dict(descriptions="a\nb", bboxes=[[0, 0, 8, 8], [10, 10, 0, 5]]), "box 2 (line 2, 'b') has width 0"),
    (dict(descriptions="a\nb", bboxes=[[0, 0, 8, 8], [0, 0, "x", 5]]), "box 2 (line 2, 'b')"),
    (dict(descriptions="a\nb", bboxes=[[0, 0, 8, 8], [900, 900, 10, 10]]), "instance 2"),
    (dict(descriptions="a", bboxes=[[[0, 0, 8, 8]]], image_index=3), "input 'image_index'"),
    (dict(descriptions="a\nb", masks=torch.zeros(3, 8, 8)), "2 lines but 3 masks"),
    (dict(descriptions="a\nb", masks=torch.cat([torch.ones(1, 8, 8), torch.zeros(1, 8, 8)])), "mask 2 ('b') is empty"),
    (dict(descriptions="a"), "either masks or bboxes"),
])
def test_errors_name_the_node_input_and_line(kw, needle):
    with pytest.raises(ValueError) as err:
        run(**kw)
    assert err.value.args[0].startswith("DEIG Layout from Boxes: input '") and needle in str(err.value), str(err.value)
