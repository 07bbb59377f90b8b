"""The paper's table layouts: Table 1 (DEIG-Bench), Table 2 (MIG-Bench) and Table 3 (InstDiff-Bench), as
plain text (printed), Markdown and CSV. Rates, accuracies and mIoU in %, CLIP logits with 2 decimals,
CLIP cosines with 3.

A figures dict (what ``score`` writes to metrics.json) gives the row of all images together; with
several seeds it also has ``per_seed``, ``seed_mean`` and ``seed_std`` (same keys), which add a row per
seed and a "mean ± std" row over the seeds.
"""
from __future__ import annotations

import csv
import io

from .metrics.tally import MIG_LEVELS, OBJECT_GROUPS, PERSON_GROUPS

# (column name, key path in the figures, format: "pct" | "logit" | "cos")
Column = tuple[str, tuple[str, ...], str]
CLIP_COLUMNS = [("CLIP", ("clip_score",), "logit"), ("Local CLIP", ("local_clip_score",), "logit")]
ATTRIBUTE_COLUMNS = {"color": ("Acc_c", "CLIP_c"), "texture": ("Acc_t", "CLIP_t")}


def columns(fig: dict) -> tuple[str, list[Column]]:
    """The table's title and columns for the figures of one benchmark."""
    benchmark = fig["benchmark"]
    if benchmark == "mig-bench":
        cols = [(f"ISR {k}", ("instance_success_rate", k), "pct") for k in MIG_LEVELS]
        cols += [("ISR avg", ("instance_success_rate", "all"), "pct")]
        cols += [(f"mIoU {k}", ("miou", k), "pct") for k in MIG_LEVELS]
        cols += [("mIoU avg", ("miou", "all"), "pct"), ("SR img", ("image_success_rate", "all"), "pct")]
        title = f"MIG-Bench ({fig['images']} images): instance success rate (ISR) and mIoU per level, %"
    elif benchmark == "deig-bench":
        cols = [(f"MAA_human {g}", ("maa_human", g), "pct") for g in PERSON_GROUPS]
        cols += [("MAA_human", ("maa_human", "all"), "pct")]
        cols += [(f"MAA_obj {g}", ("maa_object", g), "pct") for g in OBJECT_GROUPS]
        cols += [("MAA_obj", ("maa_object", "all"), "pct"), ("mIoU", ("miou",), "pct")]
        title = f"DEIG-Bench ({fig['images']} images): MAA per attribute group and mIoU, %"
    elif benchmark == "instdiff-bench":
        acc, clip = ATTRIBUTE_COLUMNS[fig["attribute_kind"]]
        return (f"InstDiff-Bench {fig['attribute_kind']} ({fig['images']} images): attribute accuracy, % "
                f"and CLIP cosine of instance crop and phrase",
                [(acc, ("attribute_accuracy",), "pct"), (clip, ("attribute_clip",), "cos")])
    else:
        raise ValueError(f"no table for benchmark {benchmark!r}")
    return title, cols + [c for c in CLIP_COLUMNS if fig.get(c[1][0]) is not None]


def _get(fig: dict | None, path: tuple[str, ...]):
    for key in path:
        if not isinstance(fig, dict):
            return None
        fig = fig.get(key)
    return fig


def _cell(value, kind: str) -> str:
    if value is None:
        return "-"
    return {"pct": f"{100 * value:.1f}", "logit": f"{value:.2f}", "cos": f"{value:.3f}"}[kind]


def rows(fig: dict) -> tuple[str, list[str], list[tuple[str, list[str]]]]:
    """(title, header, [(row label, cells)]): all images, then per seed and mean ± std when there are
    several seeds."""
    title, cols = columns(fig)
    out = [("all images", [_cell(_get(fig, p), k) for _, p, k in cols])]
    per_seed = fig.get("per_seed") or {}
    if len(per_seed) > 1:
        out += [(f"seed {s}", [_cell(_get(f, p), k) for _, p, k in cols]) for s, f in per_seed.items()]
        out.append((f"mean ± std ({len(per_seed)} seeds)",
                    [f"{_cell(_get(fig['seed_mean'], p), k)} ± {_cell(_get(fig['seed_std'], p), k)}"
                     if _get(fig["seed_mean"], p) is not None else "-" for _, p, k in cols]))
    return title, [c[0] for c in cols], out


def render_table(fig: dict) -> str:
    """Plain text: the title, the header and one line per row."""
    title, header, body = rows(fig)
    lines = [["", *header]] + [[label, *cells] for label, cells in body] if len(body) > 1 else \
        [header] + [cells for _, cells in body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return title + "\n" + "\n".join(" | ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines)


def render_markdown(fig: dict) -> str:
    title, header, body = rows(fig)
    lines = [f"**{title}**", "", "| | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    lines += ["| " + label + " | " + " | ".join(cells) + " |" for label, cells in body]
    return "\n".join(lines) + "\n"


def render_csv(fig: dict) -> str:
    _, header, body = rows(fig)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["rows", *header])
    writer.writerows([label, *cells] for label, cells in body)
    return buffer.getvalue()
