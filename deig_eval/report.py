"""One page per scored run, for a person to look at: the table, a grid of sample images with their layout
boxes drawn (the DEIG Preview Layout drawing), and the worst and best images by their score (share of
instances that succeed; InstDiff-Bench: attribute accuracy), each with its instances' results.

Reads what ``score`` wrote: ``metrics.json`` and, beside it, ``<stem>.images.jsonl`` and
``<stem>.instances.jsonl``. HTML (one self-contained file, images inline) or Markdown (images in a
``<page stem>_files/`` folder beside it), by the output's suffix.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from PIL import Image

from ._core import Instance, draw_instances
from .manifest import read_jsonl
from .table import rows

THUMB = 256  # long side of the pictures on the page (the boxes and labels drawn at this size)


class ReportError(ValueError):
    """Scores that cannot be reported; the message says which file is missing."""


def _load(metrics: Path) -> tuple[dict, list[dict], dict]:
    if not metrics.is_file():
        raise ReportError(f"{metrics} does not exist: run `python -m deig_eval score` first")
    figures = json.loads(metrics.read_text(encoding="utf-8"))
    stem = metrics.with_suffix("")
    images_path, instances_path = Path(f"{stem}.images.jsonl"), Path(f"{stem}.instances.jsonl")
    if not images_path.is_file() or not instances_path.is_file():
        raise ReportError(f"{images_path.name} / {instances_path.name} are not beside {metrics}: score again with "
                          f"this version of deig_eval")
    by_image = {}
    for line in read_jsonl(instances_path):
        by_image.setdefault((line["entry_id"], line["seed"]), []).append(line)
    return figures, read_jsonl(images_path), by_image


def _picture(image_line: dict, instances: list[dict]) -> Image.Image:
    image = Image.open(image_line["file"]).convert("RGB")
    scale = THUMB / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
    return draw_instances(image, [Instance(tuple(i["box"]), i["text"]) for i in instances])


def _verdict(line: dict) -> str:
    if "skipped" in line:
        return "skipped"
    if "correct" in line:
        return f"{'right' if line['correct'] else 'wrong'} (chose {line['predicted']})"
    return "success" if line["success"] else ("wrong attribute" if line["located"] else "not located")


def _caption(image_line: dict) -> str:
    score = image_line.get("score")
    seed = "" if image_line.get("seed") is None else f" seed {image_line['seed']}"
    return f"entry {image_line['entry_id']}{seed}: " + ("-" if score is None else f"{100 * score:.0f}%")


def worst_and_best(image_lines: list[dict], n: int) -> tuple[list[dict], list[dict]]:
    """The ``n`` lowest- and highest-scored images (images without a score left out; ties in file order)."""
    scored = [line for line in image_lines if line.get("score") is not None]
    return (sorted(scored, key=lambda line: line["score"])[:n],
            sorted(scored, key=lambda line: line["score"], reverse=True)[:n])


def write_report(metrics: Path, out: Path | None = None, samples: int = 12, extremes: int = 4) -> Path:
    """Write the page for ``metrics`` (default ``report.html`` beside it); returns its path."""
    metrics = Path(metrics)
    figures, image_lines, by_image = _load(metrics)
    out = Path(out) if out else metrics.parent / "report.html"
    if out.suffix.lower() not in (".html", ".md"):
        raise ReportError(f"{out}: the report is .html or .md")
    worst, best = worst_and_best(image_lines, extremes)
    sections = [("Samples", image_lines[:samples]), (f"Worst {len(worst)}", worst), (f"Best {len(best)}", best)]
    page = _markdown if out.suffix.lower() == ".md" else _html
    out.write_text(page(figures, sections, by_image, out), encoding="utf-8")
    return out


def _html(figures, sections, by_image, out: Path) -> str:
    title, header, body = rows(figures)
    table = ("<table><tr><th></th>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
             + "".join("<tr><th>" + html.escape(label) + "</th>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                       + "</tr>" for label, cells in body) + "</table>")
    parts = ["<!doctype html><meta charset='utf-8'><title>deig_eval report</title><style>"
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
             "padding:2px 6px;text-align:right}figure{display:inline-block;vertical-align:top;margin:6px;width:"
             f"{THUMB}px}}figcaption{{font-size:12px}}ol{{padding-left:1.4em;margin:2px 0}}</style>",
             f"<h1>{html.escape(title)}</h1><p>{html.escape(str(figures.get('source', '')))}</p>", table]
    for name, lines in sections:
        parts.append(f"<h2>{html.escape(name)}</h2>")
        for line in lines:
            instances = by_image.get((line["entry_id"], line["seed"]), [])
            buffer = io.BytesIO()
            _picture(line, instances).save(buffer, format="JPEG", quality=85)
            data = base64.b64encode(buffer.getvalue()).decode()
            items = "".join(f"<li>{html.escape(i['text'])}: {html.escape(_verdict(i))}</li>" for i in instances)
            parts.append(f"<figure><img src='data:image/jpeg;base64,{data}' alt='{html.escape(_caption(line))}'>"
                         f"<figcaption>{html.escape(_caption(line))}<ol>{items}</ol></figcaption></figure>")
    return "\n".join(parts) + "\n"


def _markdown(figures, sections, by_image, out: Path) -> str:
    title, header, body = rows(figures)
    folder = out.parent / f"{out.stem}_files"
    folder.mkdir(exist_ok=True)
    parts = [f"# {title}", "", str(figures.get("source", "")), "",
             "| | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    parts += ["| " + label + " | " + " | ".join(cells) + " |" for label, cells in body]
    for name, lines in sections:
        parts += ["", f"## {name}", ""]
        for line in lines:
            instances = by_image.get((line["entry_id"], line["seed"]), [])
            picture = f"{line['entry_id']}_seed{line['seed']}.jpg".replace("/", "_")
            _picture(line, instances).save(folder / picture, format="JPEG", quality=85)
            parts += [f"![{_caption(line)}]({folder.name}/{picture})", "", f"**{_caption(line)}**", ""]
            parts += [f"{n}. {i['text']}: {_verdict(i)}" for n, i in enumerate(instances, 1)] + [""]
    return "\n".join(parts) + "\n"
