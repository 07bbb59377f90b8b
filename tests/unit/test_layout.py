"""Layout parsing: the widget's JSON, DEIG-Bench entries, and the documented errors."""
import json
import math
import os

import pytest

from comfyui_deig.deig_core.layout import Instance, LayoutError, bench_entry, dump_layout, parse_layout

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures")


def test_round_trip():
    value = '[{"box": [0.1, 0.2, 0.5, 0.9], "text": "a red car"}, {"box": [0, 0, 1, 1], "text": "sky"}]'
    inst = parse_layout(value)
    assert inst == [Instance((0.1, 0.2, 0.5, 0.9), "a red car"), Instance((0.0, 0.0, 1.0, 1.0), "sky")]
    assert parse_layout(dump_layout(inst)) == inst


def test_clamps_slight_overshoot_and_accepts_wrapped_form():
    inst = parse_layout({"instances": [{"box": [-0.01, 0.2, 1.02, 0.9], "text": "x"}]})
    assert inst[0].box == (0.0, 0.2, 1.0, 0.9)


GOOD = {"box": [0.0, 0.0, 1.0, 1.0], "text": "fine"}


@pytest.mark.parametrize("bad, message", [
    ({"box": [0.1, 0.2, 0.1, 0.9], "text": "a"}, r"instance 3: box \[0.1, 0.2, 0.1, 0.9\] needs x2 > x1"),
    ({"box": [0.1, 0.2, 0.5, math.nan], "text": "a"}, "instance 3: y2 is nan; coordinates must be finite"),
    ({"box": [0.1, 0.2, 0.5, math.inf], "text": "a"}, "instance 3: y2 is inf; coordinates must be finite"),
    ({"box": [1.1, 0.2, 1.5, 0.9], "text": "a"}, r"instance 3: box \[1.1, 0.2, 1.5, 0.9\] lies outside"),
    ({"box": [0.1, 0.2, 0.5, 0.9], "text": "  "}, "instance 3 has an empty description"),
    ({"box": [0.1, 0.2, 0.5], "text": "a"}, "instance 3: 'box' must be a list of four numbers"),
    ({"box": [0.1, "0.2", 0.5, 0.9], "text": "a"}, "instance 3: y1 must be a number"),
    ({"text": "a"}, "instance 3 has no 'box'"),
    (5, "instance 3 must be an object with 'box' and 'text'"),
], ids=["x2<=x1", "nan", "inf", "outside", "empty_text", "three_numbers", "string_coordinate", "no_box", "not_object"])
def test_errors_name_the_instance_and_field(bad, message):
    """The third instance is the bad one, after two good ones: the error names it (1-based) and its field,
    in the list and in the JSON string the widget holds."""
    for value in ([GOOD, GOOD, bad], json.dumps([GOOD, GOOD, bad])):
        with pytest.raises(LayoutError, match=message):
            parse_layout(value)


@pytest.mark.parametrize("value, message", [('{"a": 1}', "JSON list"), ("[{", "not valid JSON")])
def test_errors_about_the_whole_value(value, message):
    with pytest.raises(LayoutError, match=message):
        parse_layout(value)


def test_many_instances_have_no_hard_cap():
    value = [{"box": [i / 100, 0, i / 100 + 0.01, 1], "text": f"post {i}"} for i in range(60)]
    assert len(parse_layout(value)) == 60


def test_bench_entry():
    bench = json.load(open(os.path.join(FIX, "deig_bench_sample.json")))
    caption, inst = bench_entry(bench, 0)
    assert caption == bench["results"][0]["caption"] and len(inst) == len(bench["results"][0]["instances"])
    with pytest.raises(LayoutError, match="out of range"):
        bench_entry(bench, 99)
