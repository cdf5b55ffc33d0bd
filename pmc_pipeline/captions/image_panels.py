"""An image cue for panels: how many sub-images a figure's pixels show, from the blank
gutters between them (recursive XY-cut on a downscaled greyscale copy).

`estimate_panels(image)` cuts the image along full-width / full-height bands of near-blank
rows and columns (the wider blank bands only: at least half as wide as the widest), first
into rows, then each row into columns, and returns the pieces in
reading order (top to bottom, then left to right). It is cheap (a 256-pixel copy, numpy
row and column sums) and knows nothing of axes or labels, so on real figures a chart's
empty plotting area or a legend can add a piece and a panel that touches its neighbour can
lose one. It is therefore only a check: `compare(caption_panels, estimate)` says whether
the caption's count is confirmed; boxes are given as panels only when the counts agree and
the pieces form a clean grid (every row the same number of columns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDE = 256  # the longer side of the copy that is cut
BLANK = 0.985  # a row or column is blank when this share of its pixels is near white
WHITE = 235  # grey level from which a pixel counts as white
MIN_GUTTER = 0.012  # a gutter is at least this share of the side (3 px at 256)
MIN_PIECE = 0.06  # a piece narrower than this share of the side is not a panel


@dataclass(frozen=True)
class PanelEstimate:
    count: int
    boxes: tuple[tuple[int, int, int, int], ...]  # (left, top, right, bottom), original pixels
    grid: tuple[int, ...]  # pieces per row, top to bottom
    clean_grid: bool  # every row has the same number of pieces


def _runs(content: np.ndarray, min_gutter: int, min_piece: int) -> list[tuple[int, int]]:
    """(start, end) of the content runs along one axis, split at gutters: blank stretches of
    at least min_gutter lines and at least half as wide as the widest one (a chart's blank
    gaps are narrower than the gutters between panels), keeping runs of min_piece lines."""
    lines = np.flatnonzero(content)
    if not len(lines):
        return []
    gaps = np.diff(lines) - 1  # blank lines between consecutive content lines
    widest = int(gaps.max()) if len(gaps) else 0
    threshold = max(min_gutter, (widest + 1) // 2)
    cuts = np.flatnonzero(gaps >= threshold)
    starts = [int(lines[0])] + [int(lines[c + 1]) for c in cuts]
    ends = [int(lines[c]) + 1 for c in cuts] + [int(lines[-1]) + 1]
    return [(a, b) for a, b in zip(starts, ends, strict=True) if b - a >= min_piece]


def estimate_panels(image: Image.Image) -> PanelEstimate:
    """The sub-images the pixels show, in reading order."""
    grey = image.convert("L")
    scale = SIDE / max(grey.size)
    if scale < 1:
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))))
    else:
        scale = 1.0
    white = np.asarray(grey) >= WHITE
    height, width = white.shape
    side = max(height, width)
    gutter, piece = max(2, round(MIN_GUTTER * side)), max(4, round(MIN_PIECE * side))
    boxes, grid = [], []
    for top, bottom in _runs(white.mean(axis=1) < BLANK, gutter, piece):
        band = white[top:bottom]
        columns = _runs(band.mean(axis=0) < BLANK, gutter, piece)
        grid.append(len(columns))
        for left, right in columns:
            boxes.append(
                (
                    round(left / scale),
                    round(top / scale),
                    round(right / scale),
                    round(bottom / scale),
                )
            )
    return PanelEstimate(
        count=len(boxes), boxes=tuple(boxes), grid=tuple(grid), clean_grid=len(set(grid)) <= 1
    )


@dataclass(frozen=True)
class Comparison:
    caption_count: int
    image_count: int
    agrees: bool
    boxes: tuple[tuple[int, int, int, int], ...]  # the panels' boxes, when agreed on a clean grid


def compare(caption_panels: int, estimate: PanelEstimate) -> Comparison:
    """Whether the image confirms the caption's panel count. A caption with no labels
    counts as one panel (a compound figure with unlabelled panels is then questioned)."""
    expected = max(1, caption_panels)
    agrees = estimate.count == expected
    boxes = estimate.boxes if agrees and estimate.clean_grid and expected > 1 else ()
    return Comparison(expected, estimate.count, agrees, boxes)
