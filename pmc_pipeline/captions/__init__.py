"""What each figure is, read from its caption: figure types, compound panels, sub-captions.

`analyze_caption(caption, title)` -> CaptionAnalysis with
- `figure_types`: sorted type names from the fixed taxonomy (taxonomy.FIGURE_TYPES),
  `figure_type_evidence`: type -> the caption words that decided it;
- `panels`: the labels the caption names, in the order first introduced, each with its
  sub-caption; `shared_caption`: the lead text before the first panel; `compound`: whether
  the figure has two or more panels, labelled or not.

Pure functions of the text, no model: the rules are in taxonomy.py and panels.py and in
docs/captions.md; tests/data/captions_dev.json is the labelled development set they are
measured on (`python -m bench captions`). image_panels.py estimates the panel count from
the pixels, as an optional check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pmc_pipeline.captions.panels import Panel, parse_panels
from pmc_pipeline.captions.taxonomy import FIGURE_TYPES, OTHER, tag_caption

__all__ = [
    "FIGURE_TYPES",
    "OTHER",
    "CaptionAnalysis",
    "Panel",
    "analyze_caption",
    "caption_fields",
    "figure_types",
]

# Unlabelled panels: "upper and lower panels", "Left: ... Right: ...", "from top to bottom".
# Searched in the lowered caption with string operations first: regexes run only on the few
# characters around a position word.
_LAYOUT_PHRASES = (
    "panels",
    "each panel",
    "each plot",
    "each graph",
    "each image",
    "last panel",
    "first panel",
    "second panel",
    "other panel",
    "left to right",
    "top to bottom",
)
_COUNTED_PARTS = re.compile(r"\b(?:first|second|third|two|three|four)\s+(?:rows|columns)\b")
_POSITION_WORDS = ("left", "right", "top", "bottom", "upper", "lower", "middle", "center", "centre")
# Around a position word: "(left)", "Left:", ", right)", "at left", "on the right",
# "left panel", "right graph" (not "left of", "right side", "top left corner").
_HEAD = re.compile(r"(?:^|[.;:]\s+|\(|,\s*)$")
_SIDE = re.compile(r"\b(?:at|on\s+the|to\s+the)\s+$")
_AFTER_HEAD = re.compile(r"\s*[:,)]")
_AFTER_PART = re.compile(r"\s+(?:panel|image|graph|plot|column|row)s?\b")
_NOT_AFTER_SIDE = re.compile(r"\s+(?:of|side|corner)\b")
_SAME = {"centre": "center", "upper": "top", "lower": "bottom"}


@dataclass(frozen=True)
class CaptionAnalysis:
    figure_types: tuple[str, ...]
    figure_type_evidence: dict[str, tuple[str, ...]]
    compound: bool
    panels: tuple[Panel, ...]
    shared_caption: str


@lru_cache(maxsize=4096)
def analyze_caption(caption: str | None, title: str | None = None) -> CaptionAnalysis:
    """Types, panels and sub-captions of one caption (title: the caption's own <title>,
    which starts the caption, when the parser has it; it marks where the lead ends)."""
    caption = caption or ""
    tagging = tag_caption(caption)
    parsed = parse_panels(caption, title)
    compound = len(parsed.panels) >= 2 or _unlabelled_panels(caption)
    return CaptionAnalysis(
        figure_types=tagging.types,
        figure_type_evidence=tagging.evidence,
        compound=compound,
        panels=parsed.panels,
        shared_caption=parsed.shared_caption,
    )


def _unlabelled_panels(caption: str) -> bool:
    """Two or more panels described without labels: 'upper and lower panels', 'Left: ...
    Right: ...', 'at left ... at right', 'the graph on the right', 'from left to right'."""
    lowered = caption.lower()
    if any(phrase in lowered for phrase in _LAYOUT_PHRASES):
        return True
    if ("rows" in lowered or "columns" in lowered) and _COUNTED_PARTS.search(lowered):
        return True
    positions = set()
    for word in _POSITION_WORDS:
        at = lowered.find(word)
        while at >= 0:
            end = at + len(word)
            if (at == 0 or not lowered[at - 1].isalnum()) and not lowered[end : end + 1].isalnum():
                before = lowered[max(0, at - 12) : at]
                if (
                    (_HEAD.search(before) and _AFTER_HEAD.match(lowered, end))
                    or (_SIDE.search(before) and not _NOT_AFTER_SIDE.match(lowered, end))
                    or _AFTER_PART.match(lowered, end)
                ):
                    positions.add(_SAME.get(word, word))
            at = lowered.find(word, end)
    return len(positions) >= 2


def figure_types(caption: str | None) -> tuple[str, ...]:
    """The sorted figure types of a caption (what the --figure-types filter reads; the
    panels are not parsed for it)."""
    return _types(caption or "")


@lru_cache(maxsize=4096)
def _types(caption: str) -> tuple[str, ...]:
    return tag_caption(caption).types


def caption_fields(caption: str | None, title: str | None = None) -> dict:
    """The published fields of a figure's caption analysis (figure and pair schemas, the
    sidecar JSON, `pmc-pipeline parse`)."""
    a = analyze_caption(caption, title)
    return {
        "figure_types": list(a.figure_types),
        "figure_type_evidence": {t: list(words) for t, words in a.figure_type_evidence.items()},
        "compound": a.compound,
        "panels": [{"label": p.label, "subcaption": p.subcaption} for p in a.panels],
        "shared_caption": a.shared_caption,
    }
