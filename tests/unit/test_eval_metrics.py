"""deig_eval.metrics arithmetic on hand-computed cases: IoU, NMS, located/success, the local CLIP crop box
and prompt templates, HSV colour check, MIG-Bench per-level rates and mIoU, DEIG-Bench MAA groups, the CLIP
means, the table."""
import numpy as np
import pytest

from comfyui_deig.deig_eval.metrics.boxes import InstanceOutcome, iou, located_outcome, nms, pixel_crop_box
from comfyui_deig.deig_eval.metrics.clip_templates import IMAGENET_TEMPLATES, filled_templates
from comfyui_deig.deig_eval.metrics.color import color_matches, rgb_to_hsv8, split_mig_label
from comfyui_deig.deig_eval.metrics.tally import DeigTally, MigTally, deig_group
from comfyui_deig.deig_eval.table import render_table


def test_iou_hand_computed():
    got = iou([[0, 0, 2, 2], [1, 1, 3, 3], [5, 5, 6, 6], [1, 0, 3, 2]], [1, 1, 3, 3])
    assert got == pytest.approx([1 / 7, 1.0, 0.0, 2 / 6])


def test_located_needs_iou_half_and_reports_the_best():
    assert located_outcome([], [0, 0, 10, 10]) == (False, 0.0)
    assert located_outcome([[0, 0, 10, 5]], [0, 0, 10, 10]) == (True, 0.5)  # exactly the threshold
    located, best = located_outcome([[0, 0, 10, 4], [0, 0, 10, 3]], [0, 0, 10, 10])
    assert (located, best) == (False, pytest.approx(0.4))


def test_nms_drops_overlap_above_0_8_only():
    boxes = [[0, 0, 10, 10], [0, 0, 10, 9.5], [0, 0, 10, 7.5], [20, 20, 30, 30]]
    assert nms(boxes, [0.5, 0.9, 0.4, 0.3]) == [1, 2, 3]  # 0 overlaps 1 by 0.95; 2 overlaps 1 by 0.79


@pytest.mark.parametrize("box, size, pixels", [
    ((0.25, 0.5, 0.75, 1.0), (512, 512), (128, 256, 384, 512)),
    ((0.1, 0.2, 0.3, 0.4), (512, 512), (51, 102, 153, 204)),  # 51.2, 102.4, 153.6, 204.8 truncated
    ((0.1, 0.1, 0.10015, 0.5), (512, 512), (51, 51, 52, 256)),  # 51.2 .. 51.28: no pixel by int(), one kept
    ((0.0, 0.3, 1.0, 0.30005), (512, 512), (0, 153, 512, 154)),  # 153.6 .. 153.63: one row
    ((0.999, 0.9995, 1.0, 1.0), (512, 512), (511, 511, 512, 512)),  # at the right and bottom edges
    ((0.99995, 0.0, 1.0, 1.0), (512, 512), (511, 0, 512, 512)),  # 511.97 .. 512: the last column
    ((0.5, 0.5, 1.0, 1.0), (100, 50), (50, 25, 100, 50)),  # width and height apart
])
def test_pixel_crop_box_by_hand(box, size, pixels):
    assert pixel_crop_box(box, *size) == pixels


def test_imagenet_templates_are_80_distinct_with_one_slot():
    assert len(IMAGENET_TEMPLATES) == 80 and len(set(IMAGENET_TEMPLATES)) == 80
    assert all(t.count("{}") == 1 and t.count("{") == 1 and t.count("}") == 1 for t in IMAGENET_TEMPLATES)
    prompts = filled_templates("red car")
    assert prompts[0] == "a bad photo of a red car." and prompts[-1] == "a tattoo of the red car."
    assert len(set(prompts)) == 80 and all("red car" in p and "{" not in p for p in prompts)


@pytest.mark.parametrize("rgb, hsv", [((255, 0, 0), (0, 255, 255)), ((0, 255, 0), (60, 255, 255)),
                                      ((0, 0, 255), (120, 255, 255)), ((255, 255, 255), (0, 0, 255)),
                                      ((0, 0, 0), (0, 0, 0)), ((128, 64, 0), (15, 255, 128)),
                                      ((255, 0, 255), (150, 255, 255)), ((100, 100, 50), (30, 128, 100))])
def test_hsv_follows_opencv_8bit(rgb, hsv):
    assert tuple(rgb_to_hsv8(np.array([[rgb]], dtype=np.uint8))[0, 0]) == hsv


def test_color_share_threshold_is_20_percent():
    img = np.full((10, 10, 3), 127, np.uint8)
    img[:2] = (200, 10, 10)  # 20 of 100 pixels red
    whole = np.ones((10, 10), bool)
    assert color_matches(img, whole, "red")
    img[1] = 127  # 10%
    assert not color_matches(img, whole, "red")
    assert color_matches(img, np.arange(100).reshape(10, 10) < 30, "red")  # 10 of 30 inside the segment
    assert not color_matches(img, np.zeros((10, 10), bool), "red")
    with pytest.raises(ValueError, match="no HSV range"):
        color_matches(img, whole, "purple")


def test_mig_label_split():
    assert split_mig_label("a red fire hydrant") == ("red", "fire hydrant")
    with pytest.raises(ValueError):
        split_mig_label("carrot")


def test_mig_tally_levels_by_hand():
    t = MigTally()
    ok, wrong_colour, missed = InstanceOutcome(True, True, 0.8), InstanceOutcome(True, False, 0.0), \
        InstanceOutcome(False, False, 0.3)
    t.add_image([ok, wrong_colour])  # L2
    t.add_image([ok, ok])  # L2
    t.add_image([ok, missed, ok])  # L3
    f = t.figures()
    assert f["instance_success_rate"]["L2"] == pytest.approx(3 / 4)
    assert f["instance_success_rate"]["L3"] == pytest.approx(2 / 3)
    assert f["instance_success_rate"]["all"] == pytest.approx(5 / 7)
    assert f["miou"]["L2"] == pytest.approx((0.8 + 0.0 + 0.8 + 0.8) / 4)
    assert f["miou"]["L3"] == pytest.approx((0.8 + 0.3 + 0.8) / 3)
    assert f["miou"]["all"] == pytest.approx((0.8 * 5 + 0.3) / 7)
    assert f["image_success_rate"]["L2"] == 0.5 and f["image_success_rate"]["L3"] == 0.0
    assert f["instance_success_rate"]["L6"] is None and f["images"] == 3


def person(n):
    return {"type": "person", "eval_metrics": {"color": {"num_colors": n}}}


def thing(material, texture):
    return {"type": "object", "eval_metrics": {"material": {"has_material": material},
                                               "texture": {"has_texture": texture}}}


def test_deig_groups_and_maa_by_hand():
    assert [deig_group(person(n)) for n in (1, 2, 3)] == ["C1", "C2", "C3"]
    assert [deig_group(thing(m, t)) for m, t in ((0, 0), (1, 0), (0, 1), (1, 1))] == ["L1", "L2", "L3", "L4"]
    t = DeigTally()
    yes, judged_no, missed = InstanceOutcome(True, True, 0.9), InstanceOutcome(True, False, 0.6), \
        InstanceOutcome(False, False, 0.2)
    t.add_image([yes, judged_no, missed], [person(2), person(2), thing(0, 1)])
    t.add_image([yes, yes], [person(1), thing(0, 1)])
    f = t.figures()
    assert f["maa_human"] == {"C1": 1.0, "C2": 0.5, "C3": None, "all": pytest.approx(2 / 3)}
    assert f["maa_object"] == {"L1": None, "L2": None, "L3": 0.5, "L4": None, "all": 0.5}
    assert f["miou"] == pytest.approx((0.9 + 0.6 + 0.2 + 0.9 + 0.9) / 5)  # a judged 'no' keeps its IoU


def test_tables_have_the_papers_columns():
    t = MigTally()
    t.add_image([InstanceOutcome(True, True, 0.75), InstanceOutcome(True, True, 0.5)])
    text = render_table({"benchmark": "mig-bench", **t.figures()})
    assert "ISR L2" in text and "mIoU L6" in text and "100.0" in text and "62.5" in text
    d = DeigTally()
    d.add_image([InstanceOutcome(True, True, 0.5)], [person(3)])
    text = render_table({"benchmark": "deig-bench", **d.figures()})
    assert "MAA_human C3" in text and "MAA_obj L4" in text
    assert "CLIP" not in text  # no CLIP model, no CLIP columns


@pytest.mark.parametrize("tally", [MigTally, DeigTally])
def test_clip_means_and_their_columns(tally):
    t = tally()
    outcomes = [InstanceOutcome(True, True, 0.5)] * 2
    t.add_image(outcomes) if tally is MigTally else t.add_image(outcomes, [person(1)] * 2)
    t.clip.per_image.add(20.0)
    t.clip.per_image.add(30.0)
    for x in (10.0, 11.0, 15.0):  # instances of all images together, not a mean of per-image means
        t.clip.per_instance.add(x)
    f = t.figures()
    assert f["clip_score"] == 25.0 and f["local_clip_score"] == 12.0
    rows = render_table({"benchmark": "mig-bench" if tally is MigTally else "deig-bench", **f}).splitlines()[1:]
    header, values = ([c.strip() for c in row.split("|")] for row in rows)
    assert header[-2:] == ["CLIP", "Local CLIP"] and values[-2:] == ["25.00", "12.00"]
