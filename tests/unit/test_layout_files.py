"""deig_core.layout_files: every layout format read into the same entries."""
import json

import pytest

from comfyui_deig.deig_core.layout import LayoutError
from comfyui_deig.deig_core.layout_files import entry_at, parse_layout_document, read_layout_file

MIG = {"0": {"caption": "a photo of a blue fork and a green carrot",
             "segment": [{"bbox": [0.7, 0.0, 1.0, 0.56], "label": "a blue fork"},
                         {"bbox": [0.0, 0.07, 0.13, 0.41], "label": "a green carrot"}], "image_id": "313783"},
       "7": {"caption": "a photo of a red car and a white dog",
             "segment": [{"bbox": [0.1, 0.1, 0.5, 0.5], "label": "a red car"},
                         {"bbox": [0.5, 0.5, 0.9, 0.9], "label": "a white dog"}], "image_id": "1"}}


def test_mig_bench_entries_keep_ids_captions_boxes_and_labels():
    f = parse_layout_document(json.dumps(MIG))
    assert f.format == "mig-bench" and [e.entry_id for e in f.entries] == ["0", "7"]
    e = f.by_id()["7"]
    assert e.caption == "a photo of a red car and a white dog"
    assert [(i.box, i.text) for i in e.instances] == [((0.1, 0.1, 0.5, 0.5), "a red car"),
                                                       ((0.5, 0.5, 0.9, 0.9), "a white dog")]
    assert e.raw["segment"][0]["label"] == "a red car"


def test_deig_bench_file_reads_all_400_entries_by_image_id(tmp_path):
    from devkit.paths import REPO_ROOT

    path = REPO_ROOT.parent / "shared" / "bench" / "deig_bench_coco.json"
    if not path.is_file():
        pytest.skip("../shared/bench is not beside the checkout")
    f = read_layout_file(path)
    raw = json.loads(path.read_text())["results"]
    assert f.format == "deig-bench" and len(f.entries) == len(raw) == 400
    assert f.entries[3].entry_id == str(raw[3]["image_id"]) and f.entries[3].caption == raw[3]["caption"]
    assert [i.text for i in f.entries[3].instances] == [i["description"] for i in raw[3]["instances"]]


def test_editor_json_is_one_entry():
    layout = [{"box": [0.1, 0.2, 0.3, 0.4], "text": "a cat"}]
    f = parse_layout_document(json.dumps(layout))
    assert f.format == "editor-json" and len(f.entries) == 1 and f.entries[0].instances[0].text == "a cat"
    f = parse_layout_document(json.dumps({"caption": "cats", "instances": layout}))
    assert f.entries[0].caption == "cats"


def test_json_lines_mix_forms_and_take_ids():
    lines = [json.dumps({"id": "a", "caption": "x", "layout": [{"box": [0, 0, 0.5, 0.5], "text": "a dog"}]}),
             "",
             json.dumps({"id": "b", **MIG["0"]}),
             json.dumps([{"box": [0.5, 0.5, 1, 1], "text": "a cup"}])]
    f = parse_layout_document("\n".join(lines))
    assert f.format == "jsonl" and [e.entry_id for e in f.entries] == ["a", "b", "3"]
    assert f.entries[1].instances[1].text == "a green carrot"


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ('{"a": 1}\n{"b": 2}', "line 1 is not a layout"),
    ('{"0": {"caption": "x", "segment": [{"bbox": [0.5, 0.1, 0.2, 0.9], "label": "a"}]}}', "x2 > x1"),
    ('{"results": []}', "holds no layouts"),
    ('{"id": "a", "layout": []}\n{"id": "a", "layout": []}', "appears twice"),
])
def test_bad_files_name_the_entry_and_field(text, message):
    with pytest.raises(LayoutError, match=message):
        parse_layout_document(text, where="bench.json")


def test_deig_bench_sample_and_a_bare_list_of_its_records():
    from devkit.paths import REPO_ROOT

    bench = json.loads((REPO_ROOT / "tests" / "fixtures" / "deig_bench_sample.json").read_text())
    f = parse_layout_document(json.dumps(bench))
    bare = parse_layout_document(json.dumps(bench["results"]))
    assert f.format == bare.format == "deig-bench" and f.entries == bare.entries
    first = bench["results"][0]
    assert f.entries[0].caption == first["caption"]
    assert [i.text for i in f.entries[0].instances] == [i["description"] for i in first["instances"]]


def test_a_widget_value_inside_a_json_line_that_is_not_json_is_a_layout_error():
    with pytest.raises(LayoutError, match="line 1: 'layout' is not valid JSON"):
        parse_layout_document(json.dumps({"layout": "[{"}) + "\n" + json.dumps({"layout": "[]"}))


def test_entry_at_checks_the_range():
    f = parse_layout_document(json.dumps(MIG))
    assert entry_at(f, 1).entry_id == "7"
    with pytest.raises(LayoutError, match="out of range.*2 entries"):
        entry_at(f, 2)
