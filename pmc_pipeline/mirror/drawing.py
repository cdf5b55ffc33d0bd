"""Synthetic figure pictures: draw what a caption says.

`render(spec)` draws an RGB picture of one visual kind (bar chart, line plot, scatter
plot, fluorescence micrograph, histology section, western blot, heatmap, schematic, CT
scan, or a ruled table) in the colour and marker shape the caption names, so that a small
contrastive model can learn that "red circles" look red and round. Drawing is Pillow
shapes on a plain canvas, plus grain drawn at low resolution and scaled up for textures:
a few milliseconds a picture. Multi-panel pictures give each panel its own layout, which
also keeps unrelated pictures apart for a perceptual hash. A pure function of the spec.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

from pmc_pipeline.mirror.vocab import COLORS

_WHITE = (255, 255, 255)
_MIN_DRAWN_SIDE = 16  # smaller pictures are drawn bigger and scaled down


@dataclass(frozen=True)
class VisualSpec:
    """What one picture shows; `seed` drives its layout (bar heights, blob positions)."""

    kind: str
    color: str
    shape: str
    width: int
    height: int
    seed: int
    panels: tuple[int, int] = (1, 1)  # rows x columns of sub-figures, each its own layout


def _tint(color: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    """The colour mixed with white; amount 0 keeps it, 1 gives white."""
    return tuple(int(c + (255 - c) * amount) for c in color)  # type: ignore[return-value]


def _plot_area(rng: random.Random, w: int, h: int) -> tuple[int, int, int, int]:
    left = int(w * rng.uniform(0.08, 0.18))
    bottom = int(h * rng.uniform(0.82, 0.92))
    right = int(w * rng.uniform(0.9, 0.97))
    top = int(h * rng.uniform(0.05, 0.15))
    return left, top, right, bottom


def _axes(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], width: int) -> None:
    left, top, right, bottom = box
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=(0, 0, 0), width=width)
    for i in range(1, 5):
        y = bottom - (bottom - top) * i // 5
        draw.line([(left - 3 * width, y), (left, y)], fill=(0, 0, 0), width=width)


def _legend(
    draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[int, int, int, int], color
) -> None:
    """A legend box in a random corner of the plot area: swatches and text-like bars."""
    left, top, right, bottom = box
    entries = rng.randint(1, 3)
    lw, lh = (right - left) * rng.uniform(0.2, 0.35), (bottom - top) * (0.06 + 0.05 * entries)
    x = left + (right - left) * 0.03 if rng.random() < 0.5 else right - lw - (right - left) * 0.03
    y = top + (bottom - top) * 0.03 if rng.random() < 0.6 else bottom - lh - (bottom - top) * 0.05
    draw.rectangle([x, y, x + lw, y + lh], fill=(250, 250, 250), outline=(90, 90, 90))
    step = lh / entries
    for i in range(entries):
        ey = y + step * (i + 0.3)
        swatch = color if i == 0 else (110 + 50 * i,) * 3
        draw.rectangle([x + lw * 0.06, ey, x + lw * 0.2, ey + step * 0.4], fill=swatch)
        length = lw * rng.uniform(0.35, 0.7)
        draw.rectangle(
            [x + lw * 0.27, ey + step * 0.1, x + lw * 0.27 + length, ey + step * 0.3],
            fill=(60, 60, 60),
        )


def _marker(draw: ImageDraw.ImageDraw, shape: str, x: float, y: float, r: float, fill) -> None:
    if shape == "circles":
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
    elif shape == "squares":
        draw.rectangle([x - r, y - r, x + r, y + r], fill=fill)
    else:
        draw.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=fill)


def _grainy_layer(seed: int, w: int, h: int, factor: int, base: int, amplitude: int) -> Image.Image:
    """A low-resolution 'L' canvas of grain around `base` (+- amplitude/2) to draw blurry
    things on; _upscale then smooths grain and shapes in one resize (the costly step)."""
    gen = np.random.default_rng(seed)
    shape = (max(2, h // factor), max(2, w // factor))
    grain = gen.integers(0, amplitude + 1, shape, dtype=np.int16) + (base - amplitude // 2)
    return Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8), "L")


def _grainy_canvas(
    spec: VisualSpec, factor: int, base: int, amplitude: int
) -> tuple[Image.Image, ImageDraw.ImageDraw, int, int]:
    """A grainy grey layer at 1/factor of the picture's size (see _grainy_layer), its
    drawing context and its size."""
    layer = _grainy_layer(spec.seed, spec.width, spec.height, factor, base, amplitude)
    lw, lh = layer.size
    return layer, ImageDraw.Draw(layer), lw, lh


def _upscale(layer: Image.Image, w: int, h: int) -> Image.Image:
    return layer.resize((w, h), Image.Resampling.BILINEAR)


def _colorize(grey: Image.Image, ink: tuple[int, int, int], floor: float = 0.0) -> Image.Image:
    """An 'L' image as RGB shades of `ink`: value v becomes v * (floor + (1 - floor) * ink)."""
    bands = []
    for c in ink:
        gain = floor + (1 - floor) * c / 255
        bands.append(grey.point([min(255, int(v * gain)) for v in range(256)]))
    return Image.merge("RGB", bands)


def _white_canvas(w: int, h: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A white RGB picture of w x h and its drawing context."""
    img = Image.new("RGB", (w, h), _WHITE)
    return img, ImageDraw.Draw(img)


def _plot_canvas(
    rng: random.Random, w: int, h: int
) -> tuple[Image.Image, ImageDraw.ImageDraw, tuple[int, int, int, int]]:
    """A white chart of w x h, its drawing context and its plot area."""
    img, draw = _white_canvas(w, h)
    return img, draw, _plot_area(rng, w, h)


def _finish_plot(
    draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[int, int, int, int], line: int, color
) -> None:
    """The axes, and (six times in ten) a legend."""
    _axes(draw, box, line)
    if rng.random() < 0.6:
        _legend(draw, rng, box, color)


def _bar_chart(spec: VisualSpec, rng: random.Random) -> Image.Image:
    """Vertical bars (or, one time in four, horizontal ones) with error bars."""
    w, h = spec.width, spec.height
    horizontal = rng.random() < 0.25
    # Drawn upright; a horizontal chart is drawn on the transposed canvas, then turned.
    cw, ch = (h, w) if horizontal else (w, h)
    line = max(1, min(cw, ch) // 200)
    img, draw, box = _plot_canvas(rng, cw, ch)
    left, top, right, bottom = box
    n = rng.randint(3, 10)
    slot = (right - left) / n
    color = COLORS[spec.color]
    paired = rng.random() < 0.5
    for i in range(n):
        value = rng.uniform(0.15, 0.95)
        x0 = left + slot * (i + 0.15)
        x1 = left + slot * (i + 0.85)
        y = bottom - (bottom - top) * value
        fill = _tint(color, 0.55) if paired and i % 2 else color
        draw.rectangle([x0, y, x1, bottom], fill=fill, outline=(0, 0, 0))
        err = (bottom - top) * rng.uniform(0.02, 0.08)
        mid = (x0 + x1) / 2
        draw.line([(mid, y - err), (mid, y + err)], fill=(0, 0, 0), width=line)
        draw.line(
            [(mid - slot * 0.1, y - err), (mid + slot * 0.1, y - err)], fill=(0, 0, 0), width=line
        )
    _finish_plot(draw, rng, box, line, COLORS[spec.color])
    return img.transpose(Image.Transpose.ROTATE_270) if horizontal else img


def _line_plot(spec: VisualSpec, rng: random.Random) -> Image.Image:
    w, h = spec.width, spec.height
    line = max(2, min(w, h) // 120)
    img, draw, box = _plot_canvas(rng, w, h)
    left, top, right, bottom = box
    points = rng.randint(5, 14)
    colors = [COLORS[spec.color], (150, 150, 150), (60, 60, 60)][: rng.randint(1, 3)]
    for color in colors:
        level, slope = rng.uniform(0.1, 0.6), rng.uniform(-0.04, 0.08)
        xy = []
        for i in range(points):
            value = min(0.95, max(0.05, level + slope * i + rng.uniform(-0.08, 0.08)))
            xy.append((left + (right - left) * i / (points - 1), bottom - (bottom - top) * value))
        band = (bottom - top) * rng.uniform(0.04, 0.15)  # the shaded +- s.d. band
        outline = [(x, y - band) for x, y in xy] + [(x, y + band) for x, y in reversed(xy)]
        draw.polygon(outline, fill=_tint(color, 0.75))
        draw.line(xy, fill=color, width=line, joint="curve")
        for x, y in xy:
            _marker(draw, spec.shape, x, y, line * 2, color)
    _finish_plot(draw, rng, box, max(1, line // 2), COLORS[spec.color])
    return img


def _scatter_plot(spec: VisualSpec, rng: random.Random) -> Image.Image:
    w, h = spec.width, spec.height
    img, draw, box = _plot_canvas(rng, w, h)
    left, top, right, bottom = box
    radius = max(2, min(w, h) // rng.randint(40, 90))
    color = COLORS[spec.color]
    for _ in range(rng.randint(1, 3)):  # clusters (cell populations, patient groups)
        cu, cv = rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.85)
        su, sv = rng.uniform(0.03, 0.2), rng.uniform(0.03, 0.2)
        for _ in range(rng.randint(30, 120)):
            u = min(0.98, max(0.02, rng.gauss(cu, su)))
            v = min(0.98, max(0.02, rng.gauss(cv, sv)))
            x, y = left + (right - left) * u, bottom - (bottom - top) * v
            _marker(draw, spec.shape, x, y, radius, color)
    _finish_plot(draw, rng, box, max(1, radius // 3), COLORS[spec.color])
    return img


def _fluorescence(spec: VisualSpec, rng: random.Random) -> Image.Image:
    w, h = spec.width, spec.height
    layer, draw, lw, lh = _grainy_canvas(spec, 4, base=12, amplitude=24)
    for _ in range(rng.randint(12, 60)):
        x, y = rng.uniform(0, lw), rng.uniform(0, lh)
        rx, ry = rng.uniform(1, lw / 10 + 1), rng.uniform(1, lh / 10 + 1)
        draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=rng.randint(90, 255))
    return _colorize(_upscale(layer, w, h), COLORS[spec.color])


def _histology(spec: VisualSpec, rng: random.Random) -> Image.Image:
    w, h = spec.width, spec.height
    stain = _upscale(_grainy_layer(spec.seed, w, h, 12, base=200, amplitude=50), w, h)
    img = Image.merge("RGB", (stain.point(lambda v: v + 40), stain.point(lambda v: v - 10), stain))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(2, 6)):  # lumens
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.05, 0.18) * min(w, h)
        draw.ellipse([x - r, y - r * 0.7, x + r, y + r * 0.7], fill=(250, 240, 245))
    nucleus = COLORS[spec.color]
    size = max(2, min(w, h) // 90)
    for _ in range(rng.randint(80, 300)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        draw.ellipse([x - size, y - size * 0.8, x + size, y + size * 0.8], fill=nucleus)
    return img


def _western_blot(spec: VisualSpec, rng: random.Random) -> Image.Image:
    """Membrane strips (one per probed protein, cut apart as published blots are) with a
    band per lane, on film whose exposure drifts across the image."""
    w, h = spec.width, spec.height
    layer, draw, lw, lh = _grainy_canvas(spec, 3, base=6, amplitude=12)
    for i, level in enumerate(rng.sample(range(0, 40), 4)):  # uneven exposure, by quadrant
        x, y = (i % 2) * lw / 2, (i // 2) * lh / 2
        draw.rectangle([x, y, x + lw / 2, y + lh / 2], fill=level)
    lanes, strips = rng.randint(4, 12), rng.randint(1, 4)
    left, right = lw * rng.uniform(0.0, 0.25), lw * rng.uniform(0.75, 1.0)
    cuts = sorted(rng.uniform(0.05, 0.95) for _ in range(strips - 1))
    edges = [0.0, *cuts, 1.0]
    for top, bottom in zip(edges, edges[1:], strict=False):
        y = lh * rng.uniform(top + (bottom - top) * 0.3, bottom - (bottom - top) * 0.3)
        thickness = lh * (bottom - top) * rng.uniform(0.08, 0.25)
        for lane in range(lanes):
            if rng.random() < 0.15:
                continue  # an empty lane
            x0 = left + (right - left) * (lane + 0.12) / lanes
            x1 = left + (right - left) * (lane + 0.88) / lanes
            draw.ellipse([x0, y - thickness, x1, y + thickness], fill=rng.randint(80, 230))
        if bottom < 1.0:  # the gap between two strips
            draw.rectangle([0, lh * bottom - 1, lw, lh * bottom + 1], fill=0)
    film = layer.point(lambda v: 232 - int(v * 0.85))
    return _colorize(_upscale(film, w, h), COLORS[spec.color], floor=0.75)


def _heatmap(spec: VisualSpec, rng: random.Random) -> Image.Image:
    w, h = spec.width, spec.height
    img, draw = _white_canvas(w, h)
    rows, cols = rng.randint(6, 30), rng.randint(4, 16)
    left = int(w * rng.uniform(0.1, 0.25))
    cell_w, cell_h = (w - left - 4) / cols, (h - 8) / rows
    hot, cold = COLORS[spec.color], (40, 70, 190) if spec.color != "blue" else (200, 40, 40)
    for r in range(rows):
        trend = rng.uniform(-1, 1)
        for c in range(cols):
            value = max(-1.0, min(1.0, trend + rng.gauss(0, 0.5)))
            color = _tint(hot if value > 0 else cold, 1 - abs(value))
            x0, y0 = left + c * cell_w, 4 + r * cell_h
            draw.rectangle([x0, y0, x0 + cell_w, y0 + cell_h], fill=color)
    for r in range(0, rows - 1, 2):  # a dendrogram on the left
        y0, y1 = 4 + (r + 0.5) * cell_h, 4 + (r + 1.5) * cell_h
        x = left * rng.uniform(0.3, 0.9)
        draw.line([(left, y0), (x, y0), (x, y1), (left, y1)], fill=(0, 0, 0), width=1)
    return img


def _schematic(spec: VisualSpec, rng: random.Random) -> Image.Image:
    w, h = spec.width, spec.height
    img, draw = _white_canvas(w, h)
    color = COLORS[spec.color]
    line = max(2, min(w, h) // 150)
    n = rng.randint(3, 7)
    centres = []
    for i in range(n):
        x = w * (i + 0.5) / n + rng.uniform(-0.04, 0.04) * w
        y = h * rng.uniform(0.2, 0.8)
        bw, bh = w / n * rng.uniform(0.3, 0.42), h * rng.uniform(0.08, 0.16)
        draw.rounded_rectangle(
            [x - bw, y - bh, x + bw, y + bh],
            radius=int(bh / 3),
            fill=_tint(color, 0.7),
            outline=color,
            width=line,
        )
        centres.append((x, y, bw))
    for (x0, y0, b0), (x1, y1, b1) in zip(centres, centres[1:], strict=False):
        start, end = (x0 + b0, y0), (x1 - b1, y1)
        draw.line([start, end], fill=(30, 30, 30), width=line)
        angle = math.atan2(end[1] - start[1], end[0] - start[0])
        head = line * 5
        draw.polygon(
            [
                end,
                (end[0] - head * math.cos(angle - 0.4), end[1] - head * math.sin(angle - 0.4)),
                (end[0] - head * math.cos(angle + 0.4), end[1] - head * math.sin(angle + 0.4)),
            ],
            fill=(30, 30, 30),
        )
    return img


def _ct_scan(spec: VisualSpec, rng: random.Random) -> Image.Image:
    w, h = spec.width, spec.height
    layer, draw, lw, lh = _grainy_canvas(spec, 2, base=10, amplitude=20)
    cx, cy = lw * rng.uniform(0.35, 0.65), lh * rng.uniform(0.35, 0.65)
    rx, ry = lw * rng.uniform(0.22, 0.45), lh * rng.uniform(0.2, 0.42)
    draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=rng.randint(90, 160))
    for _ in range(rng.randint(1, 3)):  # darker organs (lungs, ventricles)
        ox, oy = cx + rng.uniform(-0.6, 0.6) * rx, cy + rng.uniform(-0.5, 0.5) * ry
        orx, ory = rx * rng.uniform(0.15, 0.4), ry * rng.uniform(0.2, 0.7)
        draw.ellipse([ox - orx, oy - ory, ox + orx, oy + ory], fill=rng.randint(10, 60))
    for _ in range(rng.randint(2, 8)):  # bright structures (bone, contrast agent)
        x, y = cx + rng.uniform(-0.8, 0.8) * rx, cy + rng.uniform(-0.8, 0.8) * ry
        r = min(rx, ry) * rng.uniform(0.04, 0.16)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.randint(200, 255))
    return _colorize(_upscale(layer, w, h), COLORS[spec.color], floor=0.85)


def _table(spec: VisualSpec, rng: random.Random) -> Image.Image:
    w, h = spec.width, spec.height
    img, draw = _white_canvas(w, h)
    rows, cols = rng.randint(5, 16), rng.randint(2, 7)
    line = max(1, min(w, h) // 300)
    ink = COLORS[spec.color]
    row_h, col_w = (h - 10) / rows, (w - 10) / cols
    draw.line([(5, 5), (w - 5, 5)], fill=(0, 0, 0), width=line * 2)
    draw.line([(5, 5 + row_h), (w - 5, 5 + row_h)], fill=(0, 0, 0), width=line)
    draw.line([(5, h - 5), (w - 5, h - 5)], fill=(0, 0, 0), width=line * 2)
    for r in range(rows):
        for c in range(cols):
            length = col_w * rng.uniform(0.2, 0.85)
            x0, y0 = 5 + c * col_w + col_w * 0.06, 5 + r * row_h + row_h * 0.3
            fill = (0, 0, 0) if r == 0 else ink
            draw.rectangle([x0, y0, x0 + length, y0 + row_h * 0.35], fill=fill)
    return img


_DRAWERS: dict[str, Callable[[VisualSpec, random.Random], Image.Image]] = {
    "bar_chart": _bar_chart,
    "line_plot": _line_plot,
    "scatter_plot": _scatter_plot,
    "fluorescence_micrograph": _fluorescence,
    "histology": _histology,
    "western_blot": _western_blot,
    "heatmap": _heatmap,
    "schematic": _schematic,
    "ct_scan": _ct_scan,
    "table": _table,
}
VISUAL_KINDS = tuple(_DRAWERS)


def render(spec: VisualSpec) -> Image.Image:
    """The RGB picture a spec describes: one panel, or a grid of panels of the same kind
    (multi-panel figures are the rule in PMC, and each panel has its own layout)."""
    if spec.width < 1 or spec.height < 1:
        raise ValueError(f"image size must be positive, got {spec.width}x{spec.height}")
    try:
        drawer = _DRAWERS[spec.kind]
    except KeyError:
        raise ValueError(f"unknown visual kind {spec.kind!r}") from None
    rows, cols = spec.panels
    if rows < 1 or cols < 1:
        raise ValueError(f"panel grid must be at least 1x1, got {rows}x{cols}")
    if min(spec.width, spec.height) < _MIN_DRAWN_SIDE:
        # Icons and tiny figures: drawn at a workable size, then scaled down.
        scale = _MIN_DRAWN_SIDE / min(spec.width, spec.height)
        big = replace(spec, width=round(spec.width * scale), height=round(spec.height * scale))
        return render(big).resize((spec.width, spec.height), Image.Resampling.LANCZOS)
    rng = random.Random(spec.seed)
    if rows == cols == 1:
        return drawer(spec, rng)
    canvas = Image.new("RGB", (spec.width, spec.height), _WHITE)
    gutter = max(2, min(spec.width, spec.height) // 40)
    panel_w = max(1, (spec.width - gutter * (cols + 1)) // cols)
    panel_h = max(1, (spec.height - gutter * (rows + 1)) // rows)
    for row in range(rows):
        for col in range(cols):
            seed = rng.getrandbits(32)
            panel = replace(spec, width=panel_w, height=panel_h, seed=seed, panels=(1, 1))
            x = gutter + col * (panel_w + gutter)
            y = gutter + row * (panel_h + gutter)
            canvas.paste(drawer(panel, random.Random(seed)), (x, y))
    return canvas
