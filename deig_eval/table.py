"""The paper's table layouts as text: Table 1 (DEIG-Bench) and Table 2 (MIG-Bench). Rates and mIoU in %."""
from __future__ import annotations

from .metrics.tally import MIG_LEVELS, OBJECT_GROUPS, PERSON_GROUPS


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _rows(header: list[str], values: list[str]) -> str:
    widths = [max(len(h), len(v)) for h, v in zip(header, values)]
    return "\n".join(" | ".join(c.rjust(w) for c, w in zip(row, widths)) for row in (header, values))


def render_table(fig: dict) -> str:
    clip = [(name, f"{fig[key]:.2f}") for name, key in (("CLIP", "clip_score"), ("Local CLIP", "local_clip_score"))
            if fig.get(key) is not None]
    if fig["bench"] == "mig-bench":
        cols = [(f"ISR {k}", _pct(fig["instance_success_rate"][k])) for k in MIG_LEVELS]
        cols += [("ISR avg", _pct(fig["instance_success_rate"]["all"]))]
        cols += [(f"mIoU {k}", _pct(fig["miou"][k])) for k in MIG_LEVELS]
        cols += [("mIoU avg", _pct(fig["miou"]["all"])), ("SR img", _pct(fig["image_success_rate"]["all"]))]
        title = f"MIG-Bench ({fig['images']} images): instance success rate (ISR) and mIoU per level, %"
    else:
        cols = [(f"MAA_human {g}", _pct(fig["maa_human"][g])) for g in PERSON_GROUPS]
        cols += [("MAA_human", _pct(fig["maa_human"]["all"]))]
        cols += [(f"MAA_obj {g}", _pct(fig["maa_object"][g])) for g in OBJECT_GROUPS]
        cols += [("MAA_obj", _pct(fig["maa_object"]["all"])), ("mIoU", _pct(fig["miou"]))]
        title = f"DEIG-Bench ({fig['images']} images): MAA per attribute group and mIoU, %"
    cols += clip
    return title + "\n" + _rows([c[0] for c in cols], [c[1] for c in cols])
