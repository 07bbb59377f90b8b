"""Layout-file nodes: a DEIG-Bench, MIG-Bench, editor-JSON or JSON Lines file from ComfyUI's input folder,
read by ``deig_core.layout_files``; one entry by index, or every entry as list outputs so one queued
prompt runs the rest of the graph once per entry.

The nodes' upload button is ``web/js/deig_layout_file_upload.js`` (the host's
``UploadType.model`` / ``file_upload`` flag draws nothing on the 1.32 and 1.58 frontends); it stores the
file through the host's upload route and asks ``POST /deig/layout_file`` (``nodes/routes.py``) what it
read, so a wrong file is reported at once, in the words the node would use when queued."""
import logging
import os

import folder_paths
from comfy_api.latest import io

from ..deig_core.layout import LayoutError
from ..deig_core.layout_files import LayoutFile, entry_at, read_layout_file
from .types import Layout, LayoutSocket

log = logging.getLogger(__name__)
LAYOUT_FILE_SUFFIXES = (".json", ".jsonl")


def layout_files_in_input() -> list[str]:
    root = folder_paths.get_input_directory()
    try:
        names = os.listdir(root)
    except OSError:
        return []
    return sorted(n for n in names
                  if n.lower().endswith(LAYOUT_FILE_SUFFIXES) and os.path.isfile(os.path.join(root, n)))


def _file_input():
    return io.Combo.Input("file", options=layout_files_in_input(),
                          tooltip="A layout file in ComfyUI's input folder (.json / .jsonl): DEIG-Bench, "
                                  "MIG-Bench, an editor layout or JSON Lines of layouts; upload one here")


def read_input_layout_file(node: str, file: str) -> LayoutFile:
    """The layout file ``file`` (a name in ComfyUI's input folder); errors name ``node`` and its input."""
    if not folder_paths.exists_annotated_filepath(file):
        raise ValueError(f"{node}: input 'file': {file!r} is not in ComfyUI's input folder")
    try:
        return read_layout_file(folder_paths.get_annotated_filepath(file))
    except LayoutError as e:
        raise ValueError(f"{node}: input 'file': {e}") from None


class _LayoutFileNode(io.ComfyNode):
    """What both file nodes share: re-run when the file changes, refuse a file that does not parse."""
    NAME = ""

    @classmethod
    def fingerprint_inputs(cls, file, **kw):
        path = folder_paths.get_annotated_filepath(file)
        return os.path.getmtime(path) if os.path.isfile(path) else float("nan")

    @classmethod
    def validate_inputs(cls, file, **kw):
        try:
            read_input_layout_file(cls.NAME, file)
        except ValueError as e:
            return str(e)
        return True


class LayoutFromFile(_LayoutFileNode):
    NAME = "DEIG Layout from File"

    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_LayoutFromFile",
            display_name=cls.NAME,
            category="DEIG",
            description="One entry of a layout file (DEIG-Bench, MIG-Bench, editor JSON, JSON Lines) by index.",
            inputs=[_file_input(),
                    io.Int.Input("index", default=0, min=0, max=1_000_000, tooltip="Which entry (0-based)")],
            outputs=[LayoutSocket.Output(display_name="layout", tooltip="The entry's boxes and descriptions"),
                     io.String.Output(display_name="caption", tooltip="The entry's caption (empty if the file has none)"),
                     io.String.Output(display_name="entry_id", tooltip="The entry's id in the file (or its index)"),
                     io.Int.Output(display_name="count", tooltip="How many entries the file holds")],
        )

    @classmethod
    def execute(cls, file, index) -> io.NodeOutput:
        layout_file = read_input_layout_file(cls.NAME, file)
        try:
            entry = entry_at(layout_file, index)
        except LayoutError as e:
            raise ValueError(f"{cls.NAME}: input 'index': {e}") from None
        return io.NodeOutput(Layout(entry.instances), entry.caption, entry.entry_id,
                             len(layout_file.entries))


class LayoutsFromFile(_LayoutFileNode):
    NAME = "DEIG Layouts from File (all)"

    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DEIG_LayoutsFromFile",
            display_name=cls.NAME,
            category="DEIG",
            description="Every entry of a layout file as lists: the nodes after it run once per entry "
                        "in one queued prompt. entry_id says which entry each image comes from: link it to "
                        "Save Image's filename_prefix to name each image after its entry.",
            inputs=[_file_input(),
                    io.Int.Input("start", default=0, min=0, max=1_000_000, tooltip="First entry (0-based)"),
                    io.Int.Input("count", default=0, min=0, max=1_000_000,
                                 tooltip="How many entries from 'start' (0 = all the rest)")],
            outputs=[LayoutSocket.Output(display_name="layout", is_output_list=True,
                                          tooltip="One layout per entry (a list: the nodes after it run once per entry)"),
                     io.String.Output(display_name="caption", is_output_list=True, tooltip="Each entry's caption"),
                     io.String.Output(display_name="entry_id", is_output_list=True,
                                      tooltip="Each entry's id, in the order of the layouts: link it to Save "
                                              "Image's filename_prefix to name each image after its entry")],
        )

    @classmethod
    def execute(cls, file, start, count) -> io.NodeOutput:
        entries = read_input_layout_file(cls.NAME, file).entries
        if start >= len(entries):
            raise ValueError(f"{cls.NAME}: input 'start': {start} is past the last entry "
                             f"(the file has {len(entries)} entries, 0..{len(entries) - 1})")
        chosen = entries[start: start + count if count else None]
        log.info("%s: %d entries of %s", cls.NAME, len(chosen), file)
        return io.NodeOutput([Layout(e.instances) for e in chosen],
                             [e.caption for e in chosen], [e.entry_id for e in chosen])


NODES = [LayoutFromFile, LayoutsFromFile]
