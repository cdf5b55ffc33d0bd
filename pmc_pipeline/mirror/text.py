"""The words of synthetic articles: titles, abstracts, body paragraphs and figure captions.

Captions name what their picture shows (the visual kind, its colour, its marker shape and
its panels), in a biomedical register, so that caption words and pixels correlate the way
a contrastive model needs. Everything returns JATS markup (escaped text with inline
elements: italic, bold, sub/sup, xref, inline MathML); the caller wraps it in elements.
"""

from __future__ import annotations

import random
import re

from pmc_pipeline.mirror.drawing import VisualSpec
from pmc_pipeline.mirror.vocab import (
    CELLS,
    GENES,
    KIND_PHRASES,
    MEASURES,
    PATHWAYS,
    STATISTICS,
    SUBJECTS,
    TABLE_TOPICS,
    TISSUES,
    TREATMENTS,
)
from pmc_pipeline.mirror.xmltext import esc, inline_p_value, italic, tag, xref

PANEL_LETTERS = "ABCDEFGH"
P_CAPTION_TITLE = 0.7
P_CAPTION_MATH = 0.08
P_CAPTION_BIBR = 0.25
P_CAPTION_FIG_XREF = 0.05
P_SPLIT_PANELS = 0.5  # multi-panel captions with one <p> per panel
_PLACEHOLDER = re.compile(r"\{(gene|sup:[^}]*|sub:[^}]*)\}")


def measure(rng: random.Random) -> str:
    """A measured quantity as markup: 'IL6 mRNA expression' with the gene in italics,
    'CD8<sup>+</sup> T-cell counts'..."""
    template = rng.choice(MEASURES)
    out, last = [], 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(esc(template[last : m.start()]))
        name = m.group(1)
        if name == "gene":
            out.append(italic(rng.choice(GENES)))
        else:
            element, text = name.split(":", 1)
            out.append(tag(element, esc(text)))
        last = m.end()
    out.append(esc(template[last:]))
    return "".join(out)


def _panel_sentence(rng: random.Random, visual: VisualSpec) -> str:
    """One sentence describing the picture: kind, colour, shape, in the kind's own terms."""
    color, shape, n = visual.color, visual.shape, rng.randint(3, 12)
    kind = visual.kind
    if kind == "bar_chart":
        return f"{esc(color.capitalize())} bars show mean {measure(rng)} per group; error bars, s.e.m. (n = {n})."
    if kind == "line_plot":
        return (
            f"The {esc(color)} line with {esc(shape)} shows {measure(rng)} over {n} days; "
            "shaded bands, s.d."
        )
    if kind == "scatter_plot":
        return (
            f"Each of the {esc(color)} {esc(shape)} is one sample; {measure(rng)} is plotted "
            f"against {measure(rng)}."
        )
    if kind == "fluorescence_micrograph":
        return (
            f"{esc(rng.choice(CELLS).capitalize())} stained for {italic(rng.choice(GENES))} "
            f"({esc(color)}). Scale bar, {5 * n}\u00a0\u00b5m."
        )
    if kind == "histology":
        return (
            f"Section of {esc(rng.choice(TISSUES))} from {esc(rng.choice(SUBJECTS))}; nuclei "
            f"appear {esc(color)}. Scale bar, {10 * n}\u00a0\u00b5m."
        )
    if kind == "western_blot":
        return (
            f"Bands of {italic(rng.choice(GENES))} in {esc(rng.choice(CELLS))} treated with "
            f"{esc(rng.choice(TREATMENTS))}; GAPDH, loading control."
        )
    if kind == "heatmap":
        return f"Rows are genes and columns samples; {esc(color)} marks up-regulation, blue down-regulation."
    if kind == "schematic":
        return f"{esc(color.capitalize())} boxes mark the steps of {esc(rng.choice(PATHWAYS))}; arrows show the flow."
    if kind == "ct_scan":
        return (
            f"Grey-scale image of the {esc(rng.choice(TISSUES))}; the bright structures are "
            f"bone and contrast agent (patient {n})."
        )
    return f"Values are mean \u00b1 s.d. of {n} samples."


def _title(rng: random.Random, visual: VisualSpec) -> str:
    phrase = rng.choice(KIND_PHRASES[visual.kind])
    if visual.kind == "table":
        return f"{esc(rng.choice(TABLE_TOPICS))} {esc(rng.choice(SUBJECTS))}"
    return f"{esc(phrase)} of {measure(rng)} in {esc(rng.choice(SUBJECTS))}."


def caption_markup(rng: random.Random, visual: VisualSpec, other_figure_ids: list[str]) -> str:
    """The content of a <caption>: an optional <title>, then one or more <p>.

    The first sentence always names the visual kind ('Bar chart of ...'), in the title or
    in the first paragraph, so every caption carries it."""
    title = _title(rng, visual)
    rows, cols = visual.panels
    panels = rows * cols
    sentences = [_panel_sentence(rng, visual) for _ in range(panels)]
    if panels > 1:
        sentences = [f"({PANEL_LETTERS[i]}) {s}" for i, s in enumerate(sentences)]
    extra = []
    if rng.random() < P_CAPTION_MATH:
        extra.append(f"Statistics: {esc(rng.choice(STATISTICS))}; {inline_p_value()}.")
    if rng.random() < P_CAPTION_BIBR:
        extra.append(
            f"Adapted from ref. {xref('bibr', f'r{rng.randint(1, 8)}', str(rng.randint(1, 8)))}."
        )
    if other_figure_ids and rng.random() < P_CAPTION_FIG_XREF:
        target = rng.choice(other_figure_ids)
        extra.append(f"Compare {xref('fig', target, 'the related figure')}.")
    if rng.random() < P_CAPTION_TITLE:
        head = tag("title", title)
        body_sentences = sentences + extra
    else:
        head = ""
        body_sentences = [title, *sentences, *extra]
    if panels > 1 and rng.random() < P_SPLIT_PANELS:
        # One <p> per panel; the first also holds what comes before the panels.
        prefix = len(body_sentences) - len(sentences) - len(extra)
        paragraphs = [" ".join(body_sentences[: prefix + 1]), *sentences[1:]]
        if extra:
            paragraphs.append(" ".join(extra))
    else:
        paragraphs = [" ".join(body_sentences)]
    return head + "".join(tag("p", p) for p in paragraphs)


# --- article prose ------------------------------------------------------------------------


def article_title(rng: random.Random) -> str:
    """A title as markup: '<italic>MYC</italic> controls glycolysis in the liver of ...'."""
    gene = italic(rng.choice(GENES))
    templates = (
        f"{gene} regulates {esc(rng.choice(PATHWAYS))} in {esc(rng.choice(CELLS))}",
        f"Loss of {gene} alters {esc(rng.choice(PATHWAYS))} in the {esc(rng.choice(TISSUES))}",
        f"{esc(rng.choice(TREATMENTS).capitalize())} and {gene}-dependent {esc(rng.choice(PATHWAYS))} in {esc(rng.choice(SUBJECTS))}",
        f"A role for {gene} in {esc(rng.choice(TISSUES))} {esc(rng.choice(PATHWAYS))}",
    )
    return rng.choice(templates)


def sentence(rng: random.Random) -> str:
    """One sentence of body text as markup."""
    templates = (
        lambda: (
            f"{italic(rng.choice(GENES))} is required for {esc(rng.choice(PATHWAYS))} in {esc(rng.choice(CELLS))}."
        ),
        lambda: (
            f"We measured {measure(rng)} in {esc(rng.choice(SUBJECTS))} after {esc(rng.choice(TREATMENTS))}."
        ),
        lambda: (
            f"Samples were analysed by {esc(rng.choice(STATISTICS))} at a significance level of 0.05."
        ),
        lambda: f"The {esc(rng.choice(TISSUES))} showed marked changes in {measure(rng)}.",
        lambda: f"These findings extend earlier work on {esc(rng.choice(PATHWAYS))}.",
    )
    return rng.choice(templates)()


def paragraph(rng: random.Random, sentences: int, citation: str | None = None) -> str:
    """Paragraph content of a few sentences, with an optional citation (markup) inserted."""
    parts = [sentence(rng) for _ in range(sentences)]
    if citation:
        at = rng.randrange(len(parts))
        parts[at] = parts[at][:-1] + f" ({citation})."
    return " ".join(parts)
