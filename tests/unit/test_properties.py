"""Property-based tests: the layout parser and the mask rasteriser on arbitrary input."""
import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from comfyui_deig.deig_core.layout import Instance, LayoutError, dump_layout, parse_layout
from comfyui_deig.deig_core.masks import region_masks

huge = st.integers(min_value=10 ** 308, max_value=10 ** 400) | st.integers(max_value=-10 ** 308, min_value=-10 ** 400)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | huge | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.sampled_from(["box", "text", "x", "instances"]), kids,
                                                              max_size=4),
    max_leaves=20)
coord = st.floats(min_value=-0.5, max_value=1.5) | st.sampled_from([math.nan, math.inf, -math.inf]) | huge
item = st.fixed_dictionaries({"box": st.lists(coord, min_size=4, max_size=4), "text": st.text(max_size=20)})


def assert_valid(instances) -> None:
    """What a parsed layout promises: instances with finite boxes inside the image and a description."""
    for inst in instances:
        assert isinstance(inst, Instance)
        x1, y1, x2, y2 = inst.box
        assert all(isinstance(v, float) and math.isfinite(v) for v in inst.box)
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
        assert isinstance(inst.text, str) and inst.text.strip() == inst.text and inst.text


@given(anything)
@settings(max_examples=300, deadline=None)
def test_any_value_parses_to_a_valid_layout_or_raises_layout_error(value):
    try:
        out = parse_layout(value)
    except LayoutError:
        return
    assert_valid(out)


@given(st.text(max_size=200) | st.lists(item, max_size=3).map(json.dumps))
@settings(max_examples=300, deadline=None)
def test_any_string_parses_to_a_valid_layout_or_raises_layout_error(text):
    try:
        out = parse_layout(text)
    except LayoutError:
        return
    assert_valid(out)


def test_huge_integer_coordinate_is_a_layout_error_naming_the_instance():
    with pytest.raises(LayoutError, match="instance 2"):
        parse_layout([{"box": [0, 0, 1, 1], "text": "a"}, {"box": [0, 0, 10 ** 400, 1], "text": "b"}])


@given(st.lists(item, max_size=6))
@settings(max_examples=300, deadline=None)
def test_valid_boxes_are_inside_the_image_and_round_trip(items):
    try:
        out = parse_layout(json.dumps(items))
    except LayoutError:
        return
    assert_valid(out)
    again = parse_layout(dump_layout(out))
    assert [i.text for i in again] == [i.text for i in out]
    assert all(abs(a - b) <= 1e-6 for i, j in zip(again, out) for a, b in zip(i.box, j.box))


box = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).filter(
    lambda b: b[2] > b[0] and b[3] > b[1])


@given(st.lists(box, min_size=1, max_size=5), st.integers(1, 24), st.integers(1, 24))
@settings(max_examples=150, deadline=None)
def test_every_box_covers_a_token_at_every_unet_level(boxes, h8, w8):
    latent = (8 * h8 // 2 + 1, 8 * w8 // 2 + 1) if h8 % 3 == 0 else (4 * h8, 4 * w8)
    b = torch.tensor(boxes, dtype=torch.float32)
    h, w = latent
    for level in range(4):
        grid = (-(-h // 2 ** level), -(-w // 2 ** level))
        m = region_masks(b, grid, latent)
        assert m.shape == (len(boxes), *grid)
        assert m.flatten(1).any(1).all()
