"""Unlabelled panels: 'upper and lower panels', 'Left: ... Right: ...', 'from top to bottom'.

The words are found by the tagger's one pass over the caption (taxonomy.scan, which takes
them as extra words of its automaton, in the cases it looks for every word in);
`unlabelled_panels` reads those hits, and regexes run only on the few characters around a
position word.
"""

from __future__ import annotations

import re

# Found anywhere in the caption: two or more panels are described.
LAYOUT_PHRASES = (
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
    # Rows and columns of panels named one by one: "Each row shows the data from one cell",
    # "(first row) n = 20 vs (second row) n = 14".
    "each row",
    "each column",
    "first row",
    "second row",
    "first column",
    "second column",
    "third row",
    "third column",
    "top row",
    "bottom row",
    "middle row",
    # "Columns one and two show the measured levels; columns three and four the model fit".
    "columns one",
    "column one",
    "inset",
    # One plot or panel per thing: "for each species, one per plot".
    "one per plot",
    "one per panel",
    # Sub-figures and sub-plots: "Each sub-figure gives ...", "the subplots show ...".
    "sub-figures",
    "subfigures",
    "each sub-figure",
    "each subfigure",
    "sub-plots",
    "subplots",
    "each sub-plot",
    "each subplot",
)
# "first and second rows", "three columns" (checked by _COUNTED_PARTS).
PART_WORDS = ("rows", "columns")
# At a word start, then judged by their context.
POSITION_WORDS = (
    "left",
    "right",
    "top",
    "bottom",
    "upper",
    "lower",
    "middle",
    "center",
    "centre",
    "below",
    "above",
)
# Kinds of picture in the plural, at the head of a sentence with at most three words before
# them ("Venn diagrams showing ...", "Histograms of ...", "2 hr: Additional images of ...",
# "These plots represent ...", "Coronal T2 weighted images demonstrate ...", "This series
# of CT scans shows ..."): several pictures of one kind are described. (Four words before
# them over-reach: "High energy virtual monochromatic images (VMIs) for evaluation".)
PLURAL_PICTURES = (
    "images",
    "micrographs",
    "photomicrographs",
    "photographs",
    "pictures",
    "diagrams",
    "histograms",
    "charts",
    "plots",
    "graphs",
    "spectra",
    "blots",
    "views",
    "scans",
    "radiographs",
    "sonograms",
    "angiograms",
    "pyelograms",
    "urograms",
    "cholangiograms",
    "venograms",
    "arteriograms",
    "myelograms",
    "tomograms",
    "mammograms",
    "radiograms",
    "echograms",
    "photos",
    "gels",
    "snapshots",
    "heatmaps",
    "frames",
    "stills",
    "kymographs",
    "figures",  # "These figures show ..." (not "As in Figures 3–6": other figures)
)
# The groups of the words, as taxonomy.scan takes them: (words, at a word start only, in
# any case).
EXTRA_WORDS = {
    "layout": (LAYOUT_PHRASES, False, True),
    "parts": (PART_WORDS, True, True),
    "position": (POSITION_WORDS, True, True),
    "plural": (PLURAL_PICTURES, True, True),
}
# A DNA sequence after a position word: "(left: GCGAGCTACCTTTCAATGCT, right: ...)" names a
# qPCR's primers, not parts of the figure.
_PRIMER = re.compile(r"\s*:\s*[ACGTUacgtu]{10,}")

_COUNTED_PARTS = re.compile(
    r"\b(?:first|second|third|two|three|four)\s+(?:rows|columns)\b", re.IGNORECASE
)
# Around a position word: "(left)", "Left:", ", right)", "at left", "on the right",
# "left panel", "right graph" (not "left of", "right side", "top left corner").
_HEAD = re.compile(r"(?:^|[.;:]\s+|\(|,\s*)$")
_SIDE = re.compile(r"\b(?:at|on\s+the|to\s+the)\s+$")
_AFTER_HEAD = re.compile(r"\s*[:,)]")
_AFTER_PART = re.compile(
    r"\s+(?:panel|image|graph|plot|column|row|figure|table|inset)s?\b", re.IGNORECASE
)
# A part named by its place at the head of a sentence: "Below: Quantification ...", "On the
# right: close-ups ...", "On the right side: ...", "Panel to right: ..." (the rest of the
# figure is another part).
_SENTENCE_HEAD = re.compile(
    r"(?:^|[.;]\s+|\(\s*)(?:(?:panels?\s+)?(?:on|at|to)\s+(?:the\s+)?)?$", re.IGNORECASE
)
_PLACE_HEAD = re.compile(r"(?:\s+side)?\s*:", re.IGNORECASE)
# ... nor with a parenthesis between ("compared to the right (short arrow) side").
_NOT_AFTER_SIDE = re.compile(r"(?:\s*\([^()]{0,40}\))?\s+(?:of|side|corner)\b", re.IGNORECASE)
# Things in one panel counted off by place, or a direction in it: "numbered from left to
# right", "sorted top to bottom", "The motion is left to right", "increasing from left to
# right", "genes transcribed from left to right".
_ORDERED_BY_PLACE = re.compile(
    r"\b(?:numbered|ordered|sorted|ranked|is|are|runs?|moves?|flows?|reads?|proceeds?|"
    r"transcribed|oriented|increas\w*|decreas\w*)\s+(?:from\s+)?$",
    re.IGNORECASE,
)
# Something in one image that goes across it: "the innominate artery (white arrow) crossing the
# trachea from left to right", "a vessel coursing from top to bottom".
_GOES_ACROSS = re.compile(
    r"\b(?:cross|pass|extend|run|cours|travers|travel)\w*\s+(?:\S+\s+){0,4}from\s+$",
    re.IGNORECASE,
)
_PLACED_PANEL = re.compile(
    r"\s+(?:panel|graph|plot|diagram|chart|image|micrograph|blot|gel)\b", re.IGNORECASE
)
_PLURAL_HEAD = re.compile(
    r"(?:^|[.:]\s+)(?:representative\s+)?(?:(?:a|this|the)\s+series\s+of\s+)?(?:[\w&-]+\s+){0,3}"
    r"(?:stain(?:ing|ed)\s+)?$",
    re.IGNORECASE,
)
# Pictures only mentioned: "Color images available online", a credit ending a sentence
# ("Wellcome Images."), how they were made ("Images were taken with a gel documentation
# system").
_NOT_PLURAL_PICTURES = re.compile(
    r"\s+available\b|\s+(?:courtesy|reproduced|adapted|reprinted)\b|\s*(?:[.;]|$)|\s+(?:were|was)\s+(?:taken|acquired|captured|obtained|"
    r"recorded|collected|overlaid|merged|processed|analy[sz]ed)\b"
)
_SAME = {"centre": "center", "upper": "top", "lower": "bottom"}
# A kind of picture placed in a corner: "shown as IMD plots (top left)", "the maps (lower
# right)". A corner alone names a region of one picture as often ("ceramides inside cells
# (top left)", "the sum (bottom right)" of a matrix).
_CORNER = re.compile(r"[\s-]+(left|right)\s*\)", re.IGNORECASE)
_PICTURE_BEFORE = re.compile(
    r"\b(?:plot|graph|image|panel|map|chart|histogram|micrograph|blot|view)s?\s*\($",
    re.IGNORECASE,
)


def _inside_one_panel(caption: str, at: int) -> bool:
    """A layout phrase at `at` that orders things inside one panel ("categories (numbered
    from left to right)") or says where something in it goes ("an artery crossing the
    trachea from left to right"), not how panels are laid out."""
    return (
        _ORDERED_BY_PLACE.search(caption, max(0, at - 24), at) is not None
        or _GOES_ACROSS.search(caption, max(0, at - 60), at) is not None
    )


# "Figures 3–6", "Figures S1 and S2": the article's other figures, cited.
_CITED_FIGURES = re.compile(r"\s+S?\d")


def _plural_pictures(caption: str, at: int, end: int) -> bool:
    """A plural kind of picture (caption[at:end]) that heads the caption or a sentence and
    is described, not only mentioned."""
    return (
        _PLURAL_HEAD.search(caption, max(0, at - 40), at) is not None
        and _NOT_PLURAL_PICTURES.match(caption, end) is None
        and not (caption[at:end].lower() == "figures" and _CITED_FIGURES.match(caption, end))
    )


def unlabelled_panels(caption: str, hits: list[tuple[str, str, int, int]]) -> bool:
    """Two or more panels described without labels, from the (group, word, start, end) hits
    of the EXTRA_WORDS in the caption (in any of the cases taxonomy.case_variants gives):
    'upper and lower panels', 'Left: ... Right: ...', 'at left ... at right', 'the graph on
    the right', 'from left to right', 'Venn diagrams showing ...'."""
    positions = set()
    parts = False
    for group, word, at, end in hits:
        if group == "layout":
            if _inside_one_panel(caption, at):
                continue
            return True
        if group == "parts":
            parts = True
            continue
        if caption[end : end + 1].isalnum():
            continue  # "lefts", "topic"
        if group == "position" and _PRIMER.match(caption, end):
            continue
        if group == "plural":
            if _plural_pictures(caption, at, end):
                return True
            continue
        before = caption[max(0, at - 12) : at].lower()
        if _PLACE_HEAD.match(caption, end) and _SENTENCE_HEAD.search(before):
            return True
        if _PLACED_PANEL.match(caption, end):
            return True  # "(bottom panel)": a panel named by its place is one of several
        corner = _CORNER.match(caption, end)
        if corner and _PICTURE_BEFORE.search(caption, max(0, at - 20), at):
            row = word.lower()
            positions.add(f"{_SAME.get(row, row)} {corner.group(1).lower()}")
            continue
        if (
            (_HEAD.search(before) and _AFTER_HEAD.match(caption, end))
            or (_SIDE.search(before) and not _NOT_AFTER_SIDE.match(caption, end))
            or _AFTER_PART.match(caption, end)
        ):
            word = word.lower()
            positions.add(_SAME.get(word, word))
    if parts and _COUNTED_PARTS.search(caption):
        return True
    return len(positions) >= 2
