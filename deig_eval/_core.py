"""The parts of ``deig_core`` this tool uses, imported as the pack's own subpackage when the pack is a
package (``comfyui_deig.deig_eval`` in tests, one identity per class), else as top-level ``deig_core``
(``python -m deig_eval`` run from the pack's folder)."""
try:
    from ..deig_core.layout import Instance, LayoutError, dump_layout
    from ..deig_core.layout_files import LayoutEntry, LayoutFile, read_layout_file
    from ..deig_core.preview import draw_instances
except ImportError:  # deig_eval is top-level: no parent package
    from deig_core.layout import Instance, LayoutError, dump_layout
    from deig_core.layout_files import LayoutEntry, LayoutFile, read_layout_file
    from deig_core.preview import draw_instances

__all__ = ["Instance", "LayoutEntry", "LayoutError", "LayoutFile", "draw_instances", "dump_layout", "read_layout_file"]
