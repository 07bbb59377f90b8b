"""Layout parsing: the widget's JSON and the documented errors (layout files: test_layout_files.py)."""
import json
import math
import re

import pytest

from comfyui_deig.deig_core.layout import EDGE_TOLERANCE, Instance, LayoutError, dump_layout, parse_layout


def test_round_trip():
    value = '[{"box": [0.1, 0.2, 0.5, 0.9], "text": "a red car"}, {"box": [0, 0, 1, 1], "text": "sky"}]'
    inst = parse_layout(value)
    assert inst == [Instance((0.1, 0.2, 0.5, 0.9), "a red car"), Instance((0.0, 0.0, 1.0, 1.0), "sky")]
    assert parse_layout(dump_layout(inst)) == inst


def test_clamps_slight_overshoot_and_accepts_wrapped_form():
    inst = parse_layout({"instances": [{"box": [-0.01, 0.2, 1.02, 0.9], "text": "x"}]})
    assert inst[0].box == (0.0, 0.2, 1.0, 0.9)
    edge = parse_layout([{"box": [-EDGE_TOLERANCE, 0, 1 + EDGE_TOLERANCE, 1], "text": "x"}])
    assert edge[0].box == (0.0, 0.0, 1.0, 1.0)


@pytest.mark.parametrize("box, field", [
    ([0.5, 0.5, 1.4, 1.2], "x2 = 1.4"),        # issue #23: typed far outside the image
    ([0.5, 0.5, 1e29, 0.9], "x2 = 1e+29"),     # through the API
    ([0.1, -0.2, 0.5, 0.9], "y1 = -0.2"),
    ([0.1, 0.2, 0.5, 1 + 2 * EDGE_TOLERANCE], "y2 = 1.1"),
])
def test_a_coordinate_beyond_the_tolerance_is_an_error_naming_instance_and_field(box, field):
    value = [{"box": [0, 0, 1, 1], "text": "sky"}, {"box": box, "text": "far out"}]
    with pytest.raises(LayoutError, match=rf"instance 2: {re.escape(field)} is outside the image: coordinates must be between "
                                          rf"0 and 1 \(normalised; up to {EDGE_TOLERANCE} past an edge is clamped\)"):
        parse_layout(value)


def test_bench_and_mig_keys_name_box_and_description():
    inst = parse_layout([{"bbox": [0, 0, 0.5, 0.5], "description": "a cat"}, {"bbox": [0.5, 0, 1, 1], "label": "a dog"}])
    assert [i.text for i in inst] == ["a cat", "a dog"]


GOOD = {"box": [0.0, 0.0, 1.0, 1.0], "text": "fine"}


@pytest.mark.parametrize("bad, message", [
    ({"box": [0.1, 0.2, 0.1, 0.9], "text": "a"}, r"instance 3: box \[0.1, 0.2, 0.1, 0.9\] needs x2 > x1"),
    ({"box": [0.1, 0.2, 0.5, math.nan], "text": "a"}, "instance 3: y2 is nan; coordinates must be finite"),
    ({"box": [0.1, 0.2, 0.5, math.inf], "text": "a"}, "instance 3: y2 is inf; coordinates must be finite"),
    ({"box": [1.1, 0.2, 1.5, 0.9], "text": "a"}, r"instance 3: x1 = 1.1 is outside the image"),
    ({"box": [1.01, 0.2, 1.04, 0.9], "text": "a"}, r"instance 3: box \[1.01, 0.2, 1.04, 0.9\] lies outside"),
    ({"box": [0.1, 0.2, 0.5, 0.9], "text": "  "}, "instance 3 has an empty description"),
    ({"box": [0.1, 0.2, 0.5], "text": "a"}, "instance 3: 'box' must be a list of four numbers"),
    ({"box": [0.1, "0.2", 0.5, 0.9], "text": "a"}, "instance 3: y1 must be a number"),
    ({"text": "a"}, "instance 3 has no 'box'"),
    (5, "instance 3 must be an object with 'box' and 'text'"),
], ids=["x2<=x1", "nan", "inf", "outside", "clamped_to_nothing", "empty_text", "three_numbers", "string_coordinate",
        "no_box", "not_object"])
def test_errors_name_the_instance_and_field(bad, message):
    """The third instance is the bad one, after two good ones: the error names it (1-based) and its field,
    in the list and in the JSON string the widget holds (where NaN/Infinity are not JSON at all, as for
    the browser's JSON.parse)."""
    text = json.dumps([GOOD, GOOD, bad])
    with pytest.raises(LayoutError, match=message):
        parse_layout([GOOD, GOOD, bad])
    not_json = "NaN" in text or "Infinity" in text
    with pytest.raises(LayoutError, match="not valid JSON" if not_json else message):
        parse_layout(text)


@pytest.mark.parametrize("value, message", [('{"a": 1}', "JSON list"), ("[{", "not valid JSON")])
def test_errors_about_the_whole_value(value, message):
    with pytest.raises(LayoutError, match=message):
        parse_layout(value)


def test_many_instances_have_no_hard_cap():
    value = [{"box": [i / 100, 0, i / 100 + 0.01, 1], "text": f"post {i}"} for i in range(60)]
    assert len(parse_layout(value)) == 60
