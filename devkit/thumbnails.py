"""The example workflows' thumbnails: what the template browser shows on each card (about 256 px wide).

A square picture (CARD_SIZE) in three bands: a free top band where frontend 1.58.1 puts its "Node graph"
badge (BADGE_ZONE), the layout letterboxed in the middle (its boxes in the editor's instance colours), and
the example's title at the bottom. Each box gets a label "<n> <first words of its description>" placed by
:func:`card_geometry` inside the picture, off the badge and the title, and clear of every other label
(words are dropped, down to the bare number, until a free place is found). Fonts are Pillow's built-in
one at sizes that read at card size (half the pixels), so the pictures are the same on every machine.
"""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

CARD_SIZE = 512
CARD_WIDTH_IN_BROWSER = 256          # about how wide both frontends' template cards show it
BADGE_ZONE = (0, 0, 232, 64)          # the 1.58.1 card's "Node graph" badge (about 8..108 x 8..32 at 256 px)
TOP, BOTTOM, SIDE = 64, 60, 12        # bands: badge above the layout, title below it, side margins
LABEL_PX, TITLE_PX = 22, 28           # 11 and 14 px on a 256-px card
MIN_TITLE_PX = 22                     # a longer title is set smaller, down to this
PAD = 3                               # label text inside its tag
BACKGROUND, LAYOUT_BG, TITLE_COLOR = (14, 14, 17), (27, 27, 31), (235, 235, 240)

Rect = tuple[int, int, int, int]      # x0, y0, x1, y1 (x1, y1 exclusive)


@dataclass(frozen=True)
class Label:
    text: str
    rect: Rect                        # the tag (text + PAD on each side)


@dataclass(frozen=True)
class CardGeometry:
    size: tuple[int, int]
    layout_area: Rect                 # where the layout's full image lies
    boxes: tuple[Rect, ...]           # each instance's box in card pixels
    labels: tuple[Label, ...]
    title: Label
    title_px: int


def _font(px: int):
    return ImageFont.load_default(size=px)


LINE_GAP = 2


def _text_size(text: str, px: int) -> tuple[int, int]:
    """Width and height of (possibly multi-line) ``text``: lines of the font's full height + LINE_GAP."""
    lines = text.split("\n")
    ascent, descent = _font(px).getmetrics()
    width = max(_font(px).getbbox(line)[2] for line in lines)
    return width, len(lines) * (ascent + descent) + (len(lines) - 1) * LINE_GAP


def _tag(text: str, x: int, y: int, px: int) -> Rect:
    w, h = _text_size(text, px)
    return (x, y, x + w + 2 * PAD, y + h + 2 * PAD)


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(a: Rect, outer: Rect) -> bool:
    return outer[0] <= a[0] and outer[1] <= a[1] and a[2] <= outer[2] and a[3] <= outer[3]


def _wrap(words: list[str], max_width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and _text_size(f"{lines[-1]} {word}", LABEL_PX)[0] + 2 * PAD <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _texts(n: int, description: str, max_width: int, max_lines: int) -> list[str]:
    """Label texts for box ``n``, longest first: "<n> <description>" wrapped to ``max_width`` in at most
    ``max_lines`` lines (a cut one ends with '...'), then fewer lines, then the number alone."""
    lines = _wrap([str(n), *description.split()], max_width)
    fits = next((i for i, line in enumerate(lines) if _text_size(line, LABEL_PX)[0] + 2 * PAD > max_width), len(lines))
    out = []
    for k in range(min(fits, max_lines), 0, -1):   # lines up to the first too long (one long word)
        shown = lines[:k]
        if k < len(lines):   # cut: '...' at the end, dropping words of the last line until it fits
            last = shown[-1].split()
            while len(last) > 1 and _text_size(" ".join(last) + "...", LABEL_PX)[0] + 2 * PAD > max_width:
                last.pop()
            shown[-1] = " ".join(last) + "..."
        out.append("\n".join(shown))
    return [t for t in out if _text_size(t, LABEL_PX)[0] + 2 * PAD <= max_width] + [str(n)]


def _fit_title(title: str, width: int) -> int:
    px = TITLE_PX
    while px > MIN_TITLE_PX and _text_size(title, px)[0] + 2 * PAD > width:
        px -= 1
    return px


def card_geometry(boxes_norm, descriptions, width: int, height: int, title: str) -> CardGeometry:
    """Where everything goes on the card of a layout drawn for a ``width`` x ``height`` image."""
    size = CARD_SIZE
    avail = (SIDE, TOP, size - SIDE, size - BOTTOM)
    scale = min((avail[2] - avail[0]) / width, (avail[3] - avail[1]) / height)
    lw, lh = round(width * scale), round(height * scale)
    lx, ly = avail[0] + (avail[2] - avail[0] - lw) // 2, avail[1] + (avail[3] - avail[1] - lh) // 2
    area = (lx, ly, lx + lw, ly + lh)
    boxes = tuple((lx + round(x1 * lw), ly + round(y1 * lh), lx + round(x2 * lw), ly + round(y2 * lh))
                  for x1, y1, x2, y2 in boxes_norm)
    title_px = _fit_title(title, size - 2 * SIDE)
    title_w, title_h = _text_size(title, title_px)
    title_label = Label(title, _tag(title, (size - title_w) // 2 - PAD,
                                    size - BOTTOM + (BOTTOM - title_h) // 2 - PAD, title_px))
    keep_out = [BADGE_ZONE, title_label.rect]
    placed: list[Label] = []
    line_h = sum(_font(LABEL_PX).getmetrics()) + LINE_GAP
    for n, (box, text) in enumerate(zip(boxes, descriptions), start=1):
        inner_w = box[2] - box[0] - 4
        max_lines = max(1, min(4, (box[3] - box[1] - 2 * PAD) // line_h))
        label = None
        for candidate in _texts(n, text, max(inner_w, 1), max_lines):
            tw, th = _text_size(candidate, LABEL_PX)
            tw, th = tw + 2 * PAD, th + 2 * PAD
            spots = [(box[0] + 2, box[1] + 2), (box[0] + 2, box[3] - th - 2),    # inside the box: top, bottom
                     (box[0], box[1] - th - 1), (box[0], box[3] + 1)]           # just above, just below
            for x, y in spots:
                x = min(max(x, 0), size - tw)     # slide into the picture
                rect = (x, y, x + tw, y + th)
                if (_inside(rect, (0, 0, size, size))
                        and not any(_overlaps(rect, r) for r in keep_out + [p.rect for p in placed])):
                    label = Label(candidate, rect)
                    break
            if label:
                break
        if label is None:
            raise ValueError(f"thumbnail {title!r}: no free place for the label of box {n}")
        placed.append(label)
    return CardGeometry((size, size), area, boxes, tuple(placed), title_label, title_px)


def draw_card(geometry: CardGeometry) -> Image.Image:
    from comfyui_deig.deig_core.preview import instance_color

    img = Image.new("RGB", geometry.size, BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.rectangle([geometry.layout_area[0], geometry.layout_area[1], geometry.layout_area[2] - 1,
                    geometry.layout_area[3] - 1], fill=LAYOUT_BG)
    for i, box in enumerate(geometry.boxes):
        draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=instance_color(i), width=3)
    for i, label in enumerate(geometry.labels):
        r = label.rect
        draw.rectangle([r[0], r[1], r[2] - 1, r[3] - 1], fill=(0, 0, 0))
        draw.multiline_text((r[0] + PAD, r[1] + PAD), label.text, fill=instance_color(i), font=_font(LABEL_PX),
                            spacing=LINE_GAP)
    t = geometry.title
    draw.text((t.rect[0] + PAD, t.rect[1] + PAD), t.text, fill=TITLE_COLOR, font=_font(geometry.title_px))
    return img
