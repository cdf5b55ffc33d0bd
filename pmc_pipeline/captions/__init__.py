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

from dataclasses import dataclass
from functools import lru_cache

from pmc_pipeline.captions.layout import unlabelled_panels
from pmc_pipeline.captions.panels import Panel, parse_collapsed
from pmc_pipeline.captions.taxonomy import (
    FIGURE_TYPES,
    OTHER,
    Hits,
    Tagging,
    layout_hits,
    panel_hints,
    scan,
    tag_caption,
)
from pmc_pipeline.captions.text import collapse_spaces

__all__ = [
    "FIGURE_TYPES",
    "OTHER",
    "CaptionAnalysis",
    "Panel",
    "analyze_caption",
    "caption_fields",
    "figure_types",
]


@dataclass(frozen=True, slots=True)
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
    caption = collapse_spaces(caption or "")
    hits, tagging = _scanned(caption)
    parsed = parse_collapsed(caption, collapse_spaces(title) if title else title, panel_hints(hits))
    compound = len(parsed.panels) >= 2 or unlabelled_panels(caption, layout_hits(hits))
    return CaptionAnalysis(
        figure_types=tagging.types,
        figure_type_evidence=tagging.evidence,
        compound=compound,
        panels=parsed.panels,
        shared_caption=parsed.shared_caption,
    )


def figure_types(caption: str | None) -> tuple[str, ...]:
    """The sorted figure types of a caption (what the --figure-types filter reads; the
    panels are not parsed for it). The figure's analyze_caption later reuses this tagging."""
    return _scanned(collapse_spaces(caption or ""))[1].types


@lru_cache(maxsize=4096)
def _scanned(caption: str) -> tuple[Hits, Tagging]:
    """The hits of a collapsed caption (one pass: the tagger's words and the layout words)
    and its tagging, shared by figure_types and analyze_caption so that a build filtering
    on types tags each caption once. The hits are read only, never changed."""
    hits = scan(caption)
    return hits, tag_caption(caption, hits)


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
