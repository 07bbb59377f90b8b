"""DEIG Preview Layout's drawing (deig_core.preview): labels stay inside small pictures."""
import numpy as np
import pytest
from PIL import Image

from comfyui_deig.deig_core.layout import Instance
from comfyui_deig.deig_core.preview import draw_instances, instance_color

pytestmark = pytest.mark.unit

LONG = "a shiny red sports car with chrome wheels and a black leather interior"


def _tags(img: Image.Image) -> np.ndarray:
    """Where the black label tags are (the picture itself is white, box outlines are coloured)."""
    return (np.asarray(img) == 0).all(axis=-1)


@pytest.mark.parametrize("box", [(0.5, 0.1, 0.95, 0.6), (0.1, 0.93, 0.6, 1.0), (0.9, 0.9, 1.0, 1.0),
                                 (0.0, 0.0, 1.0, 1.0)])
def test_a_label_stays_inside_a_64x64_picture(box):
    img = draw_instances(Image.new("RGB", (64, 64), (255, 255, 255)), [Instance(box, LONG)])
    tags = _tags(img)
    assert tags.any(), "no label tag drawn"
    # a tag cut by the picture's right or bottom edge would be black up to the last column or row
    assert not tags[:, -1].any() and not tags[-1, :].any()
    # the number and text are drawn on the tag in the instance's colour
    ys, xs = np.nonzero(tags)
    tag = np.asarray(img)[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(int)
    red = instance_color(0)   # (242, 36, 36); text is anti-aliased, so look for bright reddish pixels
    assert red[0] > 200 and ((tag[..., 0] > 120) & (tag[..., 1] < tag[..., 0] // 2)).sum() >= 10


def test_a_label_that_fits_is_drawn_whole_at_its_box_corner():
    big = draw_instances(Image.new("RGB", (512, 512), (255, 255, 255)), [Instance((0.1, 0.1, 0.5, 0.5), "a cat")])
    ys, xs = np.nonzero(_tags(big))
    assert xs.min() == round(0.1 * 512 + 3) and abs(ys.min() - (0.1 * 512 + 2)) <= 3


@pytest.mark.parametrize("size", [(8, 8), (1, 1), (64, 16)])
def test_tiny_pictures_and_boxes_are_drawn_without_error(size):
    img = draw_instances(Image.new("RGB", size, (255, 255, 255)),
                         [Instance((0.9, 0.9, 1.0, 1.0), LONG), Instance((0.0, 0.0, 0.05, 0.05), "a cat")])
    assert img.size == size
