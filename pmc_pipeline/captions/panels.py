"""Panels and sub-captions: which panel labels a caption names, and the text of each.

The rules (docs/captions.md has them with examples; tests/data/captions_dev.md is the
labelling guide the development set follows):

- A *label* is a letter, optionally with a digit or up to three primes (A, b, C1, B′, D′′′),
  written `(A)`, `(A, B)`, `(A–C)`, `(A and B)`, `a)`, `A.`, `A,`, `A:`, Nature's bare `a`,
  or after `Panel(s)`; a primed view of a known panel is named bare too ("(red in A, white
  in A′)"). Ranges are expanded (`B–C′` -> B, B′, C, C′). The first label of a caption
  must be A (or a); each later new label may jump ahead by at most MAX_GAP letters (the
  first new label of a group too: "(I–V) relationship" after "(B)" is none). So
  abbreviations such as `curcuminoid (C)`, `(T2)` or author initials do not start panels.
- A *marker* opens a panel's description: at the caption's start, after its title, after a
  sentence end (or a colon), or at the head of a `,`/`;`/`and` list item while a list of
  markers is in progress ("(A) Smokers and (B) non-smokers"), or a parenthesised label
  followed by a capitalised word (a title that ends with no full stop). A marker is a split
  point: the panel's sub-caption runs from just after it up to the next split point, or the
  end.
- An *inline* label is met mid-sentence or after the text it describes ("TSHβ (A) and GPHα
  (B)"): it is not a split point; each panel so named gets the text from the start of its
  sentence (or of the marker segment it sits in, if that starts later) up to the next
  split point.
- A label already introduced is a *back-reference* ("the scale bar in (I)"), not a new
  panel. It is a split point only when it comes at a marker position and is more specific
  than a group marker that named it (`(D, H, L) Simulations ... (D) In wild type ...`):
  then each panel keeps its most specific segment. Named again mid-sentence in a later
  sentence of a group marker's text, where it names what the panel shows ("(A–C)
  Membranes were separated. The activity of each fraction (C) was tested."), it gives that
  panel the sentence onward, its most specific text.
- `shared_caption` is the text before the first split point or inline sentence (the whole
  caption when no panel is named).
"""

from __future__ import annotations

import bisect
import re
import string
from dataclasses import dataclass

from pmc_pipeline.captions.text import collapse_spaces

# Letters a new label may jump ahead of the highest label so far: "(A, E, I, M, Q)" names
# every fourth panel of a 5x4 grid; a larger jump is an abbreviation ("(A) ... (T2)").
# A group of labels ("(A, A′, F, F′)") is plainly labels, so it may jump further after its
# first new label ("Current–voltage (I–V) relationship" after "(B)" names no panels).
MAX_GAP = 4
MAX_GROUP_GAP = 8

_PRIMES = "′'’″‴"
_DASHES = "–—‐‑\\-"
_LABEL = rf"[A-Za-z](?:[{_PRIMES}]{{1,3}}|[0-9](?![0-9]))?"
# "A–C", "A-–C" (a typo), and "B1–4" for B1–B4.
_RANGE = rf"{_LABEL}(?:\s*[{_DASHES}]{{1,2}}\s*(?:{_LABEL}|(?<=[0-9][{_DASHES}])[0-9](?![0-9])))?"
# "A, B", "A and B", "A & B", "A, B, or C" (one panel of several: "Each panel (A, B, or C)").
_JOIN = r"(?:\s*[,&/]\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+)"
_JOIN_RE = re.compile(_JOIN)
_DASH_RE = re.compile(rf"\s*[{_DASHES}]{{1,2}}\s*")
_LIST = rf"{_RANGE}(?:{_JOIN}{_RANGE})*"
# Words that may follow the labels inside parentheses: "(A upper panel)", "(A, left)".
_POSITION = (
    r"upper|lower|left|right|top|bottom|middle|center|centre|inset|insets|panels?|rows?"
    r"|columns?|far|and|images?"
)

# "(A)", "(A–C)", "(A, B)", "(panel A)", "(A upper panel)": the whole parenthesis is labels.
# A panel's roman sub-panels after its label: "(A, i–iv)", "(B, (i–iii)".
_ROMAN = r"(?:i{1,3}|iv|vi{0,3}|ix|x)"
_SUBPANELS = rf",\s*\(?{_ROMAN}(?:\s*[{_DASHES}]\s*{_ROMAN})?\)?"
_PAREN = re.compile(
    rf"\(\s*(?:[Pp]anels?\s+)?(?P<body>{_LIST})(?:{_SUBPANELS})?(?:[\s,;]+(?:{_POSITION})\b)*\s*\)"
    # Not a stereodescriptor: "(E)-hex-2-enal", "(R)-3-hydroxy".
    r"(?![-‐‑][A-Za-z0-9])"
    rf"(?:\s*[{_DASHES}]\s*\(\s*(?P<to>{_LABEL})\s*\))?"
    # "(A)— Plate A ...", "(A): Probability ...": a dash or a colon after the label separates.
    r"(?:\s?[—–](?= )|:(?=\s))?"
)
# "a)", "b)" with no opening parenthesis; "a)-f)" is a range; a colon after it separates.
_CLOSE = re.compile(
    rf"(?<![\w(\[{_PRIMES}])(?P<body>{_LIST})\)(?:[{_DASHES}]{{1,2}}(?P<to>{_LABEL})\))?"
    r"(?::(?=\s))?"
)
# Bare labels: "A.", "A,", "A:", "a", "c–h", "a, b", "D and E,".
_BARE = re.compile(
    rf"(?<![\w(\[{_PRIMES}{_DASHES}/.@#+*=<>±×])(?P<body>{_LIST})(?P<delim>[.,:])?(?=\s|$)"
)
_BARE_ONE = re.compile(rf"(?P<body>{_RANGE})(?P<delim>[.,:])?(?=\s|$)")
# "Panel (B)", "In panels A–J", and at a sentence's start "In (C)", "In graph b)".
_PANEL_WORD = re.compile(
    r"(?:(?:\b[Ii]n\s+)?\b[Pp]anels?|\b(?-i:In)(?:\s+(?:graphs?|plots?|figures?))?)\s+$"
)

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "fig figs al eg e.g ie i.e vs ref refs no nos approx ca cf eq eqs resp sp spp st dr mr "
    "mrs ms prof inc ltd co corp jr sr viz etc ver vol".split()
)
# Context tests are string operations on the last words before a label (regexes anchored
# at the end of a string would try every position of it).
_QUOTES_AND_CLOSERS = "'\"”’)]"
_SENTENCE_ENDS = (".", "!", "?", ":")
_AND_WORDS = frozenset({"and", "or", "&", "while", "whereas", "then"})
_FUNCTION_WORDS = frozenset(
    "of for in on at by with from to into and or showing shows show shown between than "
    "versus vs. as under after before during using via the a an is are was were "
    # Prepositions whose initial may be the label after them ("plotted against (A) total
    # charge, (B) ..." abbreviates nothing).
    "against across among around along above below beside beyond over per through toward "
    "towards within without upon onto about".split()
)
TAIL = 48  # characters of text before a label that the context tests read
_SUB_PANEL_NUMBER = re.compile(r"\d+")
# Letters that a caption says name things, not panels: "basins identified by letters (A–F)".
# Words after which a letter names a thing, not a panel: "identified by letters (A–F)", "They
# are called molecule A ... and molecule B" (a crystal's molecules), "chains A and B",
# "grouped into five classes (I–V)".
_NAMING_WORDS = frozenset(
    {"letters", "letter", "lettered", "molecule", "chain", "chains", "classes", "categories"}
)
# Individuals numbered after their group's letter: "five experimental mice (E1–E5)",
# "control mice (C1, C2)" name the animals, not sub-panels of panels E and C.
_INDIVIDUALS = frozenset(
    {"mice", "rats", "animals", "patients", "donors", "subjects", "individuals", "participants"}
)


def _last_word(before: str) -> str:
    return before[before.rfind(" ") + 1 :]


def _ends_sentence(before: str) -> bool:
    """Whether `before` ends a sentence: '.', '!', '?' or ':' (closing quotes or brackets
    allowed after it), but not an abbreviation ('Fig.', 'et al.') nor an initial."""
    stripped = before.rstrip(_QUOTES_AND_CLOSERS)
    if not stripped.endswith(_SENTENCE_ENDS):
        return False
    if stripped.endswith("."):
        word = _last_word(stripped)[:-1].lstrip("([")
        if word.lower() in _ABBREVIATIONS:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Panel:
    label: str
    subcaption: str


@dataclass(frozen=True, slots=True)
class PanelParse:
    panels: tuple[Panel, ...]
    shared_caption: str


@dataclass(slots=True)
class _Candidate:
    start: int  # where the marker starts (its "Panel" / "In panels" prefix included)
    end: int  # just after the label and its delimiter
    labels: list[str]
    form: str  # paren, close, bare, primed (a bare primed label named inline: "white in A′")
    delim: str = ""
    panel_word: bool = False
    in_word: bool = False  # after a bare "In" ("In (C), ..."), no "panel" word


# How far after a lone sub-panel label "(A1)" its next one "(A2)" is looked for.
_SUB_PANEL_REACH = 400
# Words before a parenthesised label that place it in the figure: "wide in (A1)".
_PLACE_WORDS = frozenset({"in", "panel", "panels", "see"})
# A person's first initials just before, after "by" or a credit: "illustration by F. A. Esteves".
_INITIAL_BEFORE = re.compile(r"\b(?:[Bb]y|[Cc]ourtesy\s+of|[Cc]redit:?|©)\s+(?:[A-Z]\.\s*)+$")
# An item attached after a figure's caption, with its own title and labels: eLife's
# "... DOI: ... Figure 7—source data 1. The long lifespan ... (A) ...", "Figure
# 10—figure supplement 1: Surface potentials of IF2 (A) and (B)".
_ATTACHED = re.compile(
    r"(?:^|[.:;]\s|\d\s)(?:Figure|Fig\.)\s+\d+\s*[—–]\s*(?:source\s+data|figure\s+supplement)"
    r"\s+\d+\s*[.:]"
)
# Reaction schemes list their steps as "(a) NaH, THF; (b) ...": not panels.
_REAGENTS = re.compile(r"\breagents\s+and\s+conditions\b", re.IGNORECASE)


def parse_panels(caption: str, title: str | None = None) -> PanelParse:
    """The panels the caption names, in the order first introduced, with their sub-captions
    (whitespace collapsed to single spaces, as parse_article gives captions)."""
    return parse_collapsed(collapse_spaces(caption), collapse_spaces(title) if title else title)


def parse_collapsed(
    text: str, title: str | None, hints: list[tuple[str, int]] | None = None
) -> PanelParse:
    """parse_panels of a caption and title whose whitespace is collapsed already. `hints`:
    the (word, position) of the EXTRA_WORDS in the text, when the caller has scanned it
    (taxonomy.scan: one pass finds the tagger's words and these)."""
    if hints is None:
        from pmc_pipeline.captions.taxonomy import panel_hints, scan

        hints = panel_hints(scan(text))
    reagents = _REAGENTS.search(text) if "eagents and conditions" in text else None
    if reagents:  # the steps after it are not panels; the text before may still have some
        cut = reagents.start()
        before = text[:cut].rstrip()
        parsed = parse_collapsed(
            before, title, [h for h in hints if h[1] + len(h[0]) <= len(before)]
        )
        if not parsed.panels:
            return PanelParse((), text.strip())
        last = parsed.panels[-1]
        tail = text[reagents.start() :].strip()
        panels = parsed.panels[:-1] + (Panel(last.label, f"{last.subcaption} {tail}"),)
        return PanelParse(panels, parsed.shared_caption)
    title_end = _title_end(text, title)
    candidates = _candidates(text, hints)
    # The search runs only where a dash is (eLife's em dash, an en dash in copies of it).
    attached = _ATTACHED.search(text) if "—" in text or "–" in text else None
    if attached:  # the labels of a source data file or a supplement cited after the caption
        candidates = [c for c in candidates if c.start < attached.start()]
    if not candidates:
        return PanelParse((), text.strip())
    state = _State(text, title_end)
    for cand in candidates:
        state.classify(cand)
    return state.result()


def _title_end(text: str, title: str | None) -> int | None:
    if not title:
        return None
    title = title.strip()
    if title and text.startswith(title):
        return len(title)
    return None


# --- candidates ---------------------------------------------------------------------------


def _expand(body: str) -> list[str] | None:
    """'A–C, E' -> ['A', 'B', 'C', 'E']; 'B–C′' -> ['B', 'B′', 'C', 'C′']. None when the
    body mixes cases or runs backwards (not a label list)."""
    body = body.strip()
    if len(body) == 1:  # "(A)": most labels
        return [body]
    labels: list[str] = []
    for part in _JOIN_RE.split(body):
        ends = _DASH_RE.split(part)
        if len(ends) == 1:
            labels.append(ends[0])
            continue
        first, last = ends[0], ends[-1]
        if last.isdigit() and first[1:].isdigit():  # "B1–4": B1 to B4
            last = first[0] + last
        a, b = first[0], last[0]
        if a.isupper() != b.isupper() or ord(b) < ord(a) or ord(b) - ord(a) > 25:
            return None
        first_mark, last_mark = first[1:], last[1:]
        if first_mark.isdigit() and last_mark.isdigit() and a == b:  # A1–A3
            labels.extend(f"{a}{i}" for i in range(int(first_mark), int(last_mark) + 1))
            continue
        if first_mark.isdigit() or last_mark.isdigit():
            return None
        if a == b and first_mark == last_mark:  # "A–A": one label
            labels.append(first)
            continue
        if a == b:  # A–A‴: the letter at each prime level, A, A′, A″, A‴
            levels = _prime_levels(first_mark, last_mark)
            if levels is None:
                return None
            labels.extend(a + mark for mark in levels)
            continue
        # B–C′: each letter plain and primed; H–K″: each letter at every prime level up to
        # the last one (H, H′, H″, I, ...), as A–A″ gives A, A′, A″.
        marks = _prime_levels("", last_mark) if last_mark and not first_mark else None
        for code in range(ord(a), ord(b) + 1):
            letter = chr(code)
            if marks is not None:
                labels.extend(letter + mark for mark in marks)
            else:
                labels.append(letter + last_mark)
    if not labels:
        return None
    if len({lab[0].isupper() for lab in labels}) > 1:
        return None
    return labels


# Prime marks as levels: the single prime written "′", "'" or "’", and the double and triple
# primes as one character ("″", "‴") or as repeated singles ("′′", "''").
_PRIME_LEVEL = {"": 0, "″": 2, "‴": 3}
_LEVEL_MARKS = ("", "′", "″", "‴")


def _prime_levels(first: str, last: str) -> list[str] | None:
    """The marks from `first` up to `last`, written as `last` writes them: ('', '‴') ->
    ['', '′', '″', '‴']; ('', "''") -> ['', "'", "''"]. None when they do not go up."""

    def level(mark: str) -> int:
        return _PRIME_LEVEL.get(mark, len(mark))

    low, high = level(first), level(last)
    if high <= low:
        return None
    if last in _PRIME_LEVEL or len(set(last)) != 1:
        return list(_LEVEL_MARKS[low : high + 1]) if high <= 3 else None
    return [last[0] * n for n in range(low, high + 1)]


# Anatomical axes written as two letters ("A-P: anterior–posterior", "the D-V axis"): bare,
# they name an axis, not a range of panels.
_AXES = frozenset({"AP", "DV", "LM", "IS", "LR", "CR", "DP", "ap", "dv"})
_AXIS_AFTER = re.compile(r"[:,]?\s+(?:[a-z]|ax[ei]s\b)")
_AXIS_WORD = re.compile(r"\s+ax[ei]s\b")


def _axis_ends(body: str) -> bool:
    """Whether a range 'A-P' joins the two ends of an anatomical axis."""
    ends = _DASH_RE.split(body.strip())
    return len(ends) == 2 and ends[0] + ends[1] in _AXES


def _is_axis(text: str, body: str, body_end: int) -> bool:
    """Whether a bare 'A-P' ending at text[body_end] is an axis: its two letters an axis's
    ends, followed by a definition in lower case ("A-P: anterior–posterior", "A-P,
    anterior") or by the word axis."""
    return _axis_ends(body) and _AXIS_AFTER.match(text, body_end) is not None


def _candidates(text: str, hints: list[tuple[str, int]]) -> list[_Candidate]:
    """Every place a label may stand, in order. `text` has single spaces (parse_panels
    collapses whitespace). Each kind of candidate is found by a regex that starts with a
    literal ('(' or ' '), which the regex engine looks for in compiled code: Python sees
    only the places a label may stand, not every word."""
    found: list[_Candidate] = []
    search = _PAREN.search
    m = search(text)
    while m is not None:
        body = m.group("body")
        if m.group("to"):
            body = f"{body}–{m.group('to')}"
        if _AXIS_WORD.match(text, m.end()) and _axis_ends(body):
            m = search(text, m.start() + 1)
            continue  # "along the anteroposterior (A-P) axis": no panels A to P
        labels = _expand(body)
        if labels:
            found.append(_Candidate(m.start(), m.end(), labels, "paren"))
        m = search(text, m.start() + 1)
    if "′" in text or "″" in text or "‴" in text:
        found.extend(_primed_candidates(text, found))
        found.sort(key=lambda c: c.start)
    if not _may_have_bare_labels(text, hints):
        return _merge_adjacent(text, _with_panel_words(text, found))
    parens = [(c.start, c.end) for c in found if c.form == "paren"]  # in order of starts
    covered_to = next_paren = 0  # how far the candidates that start before a word reach
    bare: list[_Candidate] = []
    for m in _BARE_WORD.finditer(" " + text):  # the text's positions are one less
        start = m.start("word") - 2  # the word's first letter, in text
        size = m.end("word") - m.start("word") + 1
        if (
            size == 1
            and text[start] in "aA"
            and start > 1
            and text[start - 2] not in ".:;!?)"
            and not text[max(0, start - 6) : start].lower().endswith(("panel ", "anels "))
        ):
            continue  # the article 'a' mid-sentence (not "In panel A")
        while next_paren < len(parens) and parens[next_paren][0] <= start:
            covered_to = max(covered_to, parens[next_paren][1])
            next_paren += 1
        if start < covered_to:
            continue  # inside a parenthesised label or a bare label list found before
        cand = _bare_candidate(text, start)
        if cand is not None:
            bare.append(cand)
            covered_to = max(covered_to, cand.end)
    taken = parens + [(c.start, c.end) for c in bare]
    for word, at in hints:
        if word[0] == "." and at and (text[at - 1].islower() or text[at - 1] in "0123456789)"):
            cand = _glued_candidate(text, at + 1)  # "metabolism.A Guilt", not "U.S.A Smith"
            if cand is not None and not any(s <= cand.start < e for s, e in taken):
                bare.append(cand)
    found.extend(bare)
    found.sort(key=lambda c: c.start)
    return _merge_adjacent(text, _with_panel_words(text, found))


# A primed label named bare, after "in", "and" or a comma, in a parenthesis: "(blue in A,
# white in A′)", "(white in A′ and B′)". The prime makes it a label (a letter alone there
# is often a word).
_PRIMED = re.compile(r"(?:(?<=\bin )|(?<=\band )|(?<=\w, ))([A-Za-z](?:′{1,3}|″|‴))(?=[\s),;.]|$)")


def _primed_candidates(text: str, parens: list[_Candidate]) -> list[_Candidate]:
    """The bare primed labels inside a parenthesis ("(red in A, white in A′)"; not "Sets B
    and B′ were identical"), outside the parenthesised candidates ("(A′–D′, E′)")."""
    spans = sorted((c.start, c.end) for c in parens)
    found, i, covered_to = [], 0, 0  # the parentheses before a match reach covered_to
    for m in _PRIMED.finditer(text):
        start = m.start()
        while i < len(spans) and spans[i][0] <= start:
            covered_to = max(covered_to, spans[i][1])
            i += 1
        if start < covered_to or text.rfind("(", 0, start) <= text.rfind(")", 0, start):
            continue
        found.append(_Candidate(start, m.end(), [m.group(1)], "primed"))
    return found


# A word that may be a bare label: its first letter (after a ':', ';' or ',' glued to it,
# "correlation :a) positive") is a letter and its second is not, and it has at most 9
# characters. Searched in " " + text, so that the first word has a space before it too.
_BARE_WORD = re.compile(r" [:;,]?[A-Za-z](?![^\W\d_])(?P<word>[^ ]{0,8})(?= |$)")


def _with_panel_words(text: str, found: list[_Candidate]) -> list[_Candidate]:
    """A 'Panel(s)' or 'In panels' before a label belongs to its marker."""
    if "anel" not in text and "In " not in text:  # most captions: one scan, not one per label
        return found
    for cand in found:
        window = text[max(0, cand.start - TAIL) : cand.start]
        if "anel" in window or "In " in window:
            prefix = _PANEL_WORD.search(text, max(0, cand.start - TAIL), cand.start)
            if prefix:
                cand.start, cand.panel_word = prefix.start(), True
                cand.in_word = "anel" not in prefix.group()
                if cand.in_word and text[cand.end : cand.end + 1] == ",":
                    cand.end += 1  # "In c), the auxin ...": the comma ends the marker
    return found


# What shows that a caption may have bare labels (see _may_have_bare_labels), looked for as
# written by the one pass over the caption (taxonomy.scan): an 'a' or 'A' with a label's
# delimiter after it at a word start, and these anywhere.
BARE_STARTS = tuple(first + delim for first in "aA" for delim in ".,:)–-")
BARE_PHRASES = (". a ", ": a ", "; a ", ". A ", ": A ", ". B", "; B", ": B", "anel")
# A label glued to the full stop before it ("... with metabolism.A Guilt-by-association
# analysis ...": text whose blocks were joined without a space).
BARE_GLUED = tuple(f".{letter} " for letter in string.ascii_letters)
# A label closed by ')' with no '(' ("c-d) vegfaa expression ...", "a) positive b) ...").
BARE_CLOSED = tuple(f"{letter})" for letter in string.ascii_letters)
EXTRA_WORDS = {
    "bare_start": (BARE_STARTS, True, False),  # (words, at a word start, in any case)
    "bare_phrase": (BARE_PHRASES, False, False),
    "bare_glued": (BARE_GLUED, False, False),
    "bare_closed": (BARE_CLOSED, True, False),
}


def _may_have_bare_labels(text: str, hints: list[tuple[str, int]]) -> bool:
    """Whether a first bare label, 'a'/'A' with a delimiter or at a sentence start, is in
    the text ("A. ...", "a, b ...", "a) ...", ". a The ...", "of A, THL", "a–c"), from the
    (word, position) hints of EXTRA_WORDS: most captions have none, and then only
    parenthesised labels are sought."""
    upper_a = text.startswith("A ")
    upper_b = False
    for word, at in hints:
        if word in (". a ", ": a ", "; a ", ".a "):
            return True  # Nature's 'a Title' (a sentence does not start with a lower-case 'a')
        if word in (". A ", ": A ", ".A "):
            upper_a = True
        elif word in (". B", "; B", ": B"):
            upper_b = True
        elif word == "anel":  # "panels A–J", "panel a"
            rest = text[at + 4 : at + 7].lstrip("s ")
            if rest[:1] in ("A", "a") and not rest[1:2].isalpha():
                return True
        elif word[0] == ".":  # a label glued to a full stop, other than A
            continue
        elif word[-1] == ")":  # "c-d)", "b)"; not in "(B)", "(A, B)", "(A–C)"
            if text.rfind("(", 0, at) <= text.rfind(")", 0, at):
                return True
        elif at == 0 or text[at - 1] not in ".([-–":  # "A. ...", "a, b", "(26 hpf: a–c)"
            return True
    # Nature's 'a Title'; 'A Title ... B Title' (an upper-case 'A' alone may be the article).
    return text.startswith("a ") or (upper_a and upper_b)


def _glued_candidate(text: str, start: int) -> _Candidate | None:
    """A bare label glued to the full stop before it: 'metabolism.A Guilt'."""
    m = _BARE_ONE.match(text, start)
    if m is None:
        return None
    labels = _expand(m.group("body"))
    return _Candidate(start, m.end(), labels, "bare", m.group("delim") or "") if labels else None


def _bare_candidate(text: str, start: int) -> _Candidate | None:
    """'a)', 'A.', 'A,', 'a', 'c–h', 'D and E,' starting at `start`, or None."""
    m = _CLOSE.match(text, start)
    if m:
        body = m.group("body")
        labels = _expand(f"{body}–{m.group('to')}" if m.group("to") else body)
        if labels:
            return _Candidate(start, m.end(), labels, "close")
    m = _BARE.match(text, start)
    if not m:
        return None
    labels, end, delim = _expand(m.group("body")), m.end(), m.group("delim") or ""
    if labels and _is_axis(text, m.group("body"), m.end("body")):
        return None
    if not labels:  # "a, A spider plot": the first label alone
        m = _BARE_ONE.match(text, start)
        labels = _expand(m.group("body")) if m else None
        end, delim = (m.end(), m.group("delim") or "") if m else (0, "")
    return _Candidate(start, end, labels, "bare", delim) if labels else None


_JOINTS = (" and ", " or ", " & ")
_BETWEEN_ADJACENT = re.compile(r"\s*(?:,|and|&|,\s*and)\s*")


def _merge_adjacent(text: str, found: list[_Candidate]) -> list[_Candidate]:
    """'(A) and (B)', '(A), (B)' name two panels at once: one candidate."""
    merged: list[_Candidate] = []
    for cand in found:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.form == cand.form
            and cand.form in ("paren", "close")
            and cand.start - prev.end <= 7  # at most ", and " between them
            and _BETWEEN_ADJACENT.fullmatch(text, prev.end, cand.start)
        ):
            prev.labels = prev.labels + cand.labels
            prev.end = cand.end
            continue
        merged.append(cand)
    return merged


# --- classification -------------------------------------------------------------------------


def _letter(label: str) -> str:
    return label[0]


# Labels compare without case: '(e, f)' refers back to panels E and F. (The str method
# itself: a Python function around it costs more than the casefold.)
_key = str.casefold


class _State:
    def __init__(self, text: str, title_end: int | None) -> None:
        self.text = text
        self.title_end = title_end
        self.order: list[str] = []  # labels in the order introduced
        self.highest: int | None = None  # the code of the highest letter introduced
        self.known: dict[str, str] = {}  # key -> label as introduced
        self.upper: bool | None = None  # the caption's label case
        self.bare_style = False  # a bare label ('a', 'A.') has been a marker
        self.comma_style = False  # a bare label with a comma ('A,') has been accepted
        self.bare_delims: set[str] = set()  # the delimiters of the bare markers so far
        # Split points: (position where the previous segment ends, where the text starts,
        # labels it opens).
        self.splits: list[tuple[int, int, list[str]]] = []
        self.inline: list[tuple[int, list[str]]] = []  # (label position, labels)
        # Known labels named again inline, where they may name what a panel shows ("the
        # activity of each fraction (C) was tested"): (label position, labels).
        self.mentions: list[tuple[int, list[str]]] = []
        self.last_reference_end = -1  # where the last label pointed at ("in (A)") ends
        self.group_of: dict[str, int] = {}  # label key -> size of its most specific marker
        self.last_marker_labels: list[str] = []
        self.last_label_pos = -1
        self.last_label_was_marker = False
        self.last_label_was_inline = False  # the previous label named new panels inline
        self.headers: list[set[str]] = []  # label sets of group markers (2+ labels)
        self._boundaries: list[int] | None = None  # found when first needed
        self._depth_at = (0, 0)  # (position, parentheses open there), for _inside_parenthesis

    @property
    def boundaries(self) -> list[int]:
        """Where sentences start (after '. ' and a capital, not after 'Fig.' or 'et al.')."""
        if self._boundaries is None:
            self._boundaries = [m.end() for m in _BOUNDARY.finditer(self.text)]
        return self._boundaries

    # -- context ------------------------------------------------------------------------

    def _before(self, pos: int) -> str:
        """The last TAIL characters before pos, trailing space removed."""
        return self.text[max(0, pos - TAIL) : pos].rstrip()

    def _sentence_start_before(self, pos: int, before: str) -> bool:
        """Whether pos starts a sentence (`before`: self._before(pos))."""
        if not before:
            return True
        title_end = self.title_end
        if title_end is not None and title_end <= pos and not self.text[title_end:pos].strip():
            return True
        return _ends_sentence(before)

    def _inside_parenthesis(self, cand: _Candidate) -> bool:
        """Labels inside someone else's parenthesis ("(26–32 hpf: A, C, E–G)") do not open
        descriptions."""
        text, pos = self.text, cand.start
        at, depth = self._depth_at
        if pos < at:  # candidates come in order; this is only for safety
            at = depth = 0
        depth += text.count("(", at, pos) - text.count(")", at, pos)
        self._depth_at = (pos, depth)
        return depth > 0

    def _list_position(self, cand: _Candidate, before: str, in_list: bool) -> bool:
        """At the head of a list item: after ';' always, after ',' while markers are being
        listed, after a bare 'and' when a capitalised word follows or when it is the next
        label, in parentheses."""
        last = _last_word(before)
        joined = before[: -len(last)].rstrip() if last in ("and", "or", "&") else before
        if joined.endswith(";"):  # "; (b)", "; and (d)"
            return True
        if not in_list:
            return False
        if joined.endswith(","):  # ", (C)", ", and c"
            return True
        # "A: without X and B: including Y": a label with a colon needs no capital after it;
        # "(A) Smokers and (B) non-smokers": nor does the next label in parentheses.
        return last in _AND_WORDS and (
            self._follows_capitalised_word(cand)
            or cand.delim == ":"
            or (cand.form == "paren" and self._next_marker(cand))
        )

    def _follows_capital(self, cand: _Candidate) -> bool:
        text, end = self.text, cand.end
        if text[end : end + 1] == " ":  # the text has single spaces
            end += 1
        after = text[end : end + 1]
        return bool(after) and (after.isupper() or after in '“"‘')

    def _follows_digit(self, cand: _Candidate) -> bool:
        return self.text[cand.end + 1 : cand.end + 2].isdigit()

    def _follows_capitalised_word(self, cand: _Candidate) -> bool:
        """'Comparison', not 'LAP‐MALDI' or 'THL' (an acronym may sit inside a sentence)."""
        return _CAPITALISED_WORD.match(self.text, cand.end) is not None

    def _follows_word(self, cand: _Candidate) -> bool:
        return _SPACE_LETTER.match(self.text, cand.end) is not None

    def _same_sentence(self, pos: int) -> bool:
        """Whether the previous label sits in the sentence that holds pos."""
        if self.last_label_pos < 0:
            return False
        return self._sentence_start(pos, at_splits=False) <= self.last_label_pos

    def _sentence_start(self, pos: int, at_splits: bool = True) -> int:
        """Where the sentence holding pos starts: after the last sentence end before it, the
        title, or (at_splits) a split point."""
        start = 0
        if self.title_end is not None and self.title_end <= pos:
            start = self.title_end
        i = bisect.bisect_right(self.boundaries, pos) - 1
        if i >= 0:
            start = max(start, self.boundaries[i])
        if at_splits:
            for _, text_start, _ in self.splits:
                if text_start <= pos:
                    start = max(start, text_start)
        return start

    # -- labels -------------------------------------------------------------------------

    def _continues_inline_labels(self, cand: _Candidate) -> bool:
        """'cells from ctr MO (C) aplnra/b MO (D) or WT (E) Tg(fli1a:EGFP) embryos', 'exposed
        to (A) no X, (B) Y, and (C) Z': after an inline label of the same sentence, a label
        is inline too, list item or not, whatever word follows it."""
        return self.last_label_was_inline and self._same_sentence(cand.start)

    def _statement_about(self, cand: _Candidate) -> bool:
        """'(A) is reversed from the original', '(A–H) are reversed images': a sentence about
        panels already described, not a description that opens."""
        text, end = self.text, cand.end
        return (
            _VERB_AFTER.match(text, end) is not None
            or _SCALE_BAR_AFTER.match(text, end) is not None
        )

    def _roman_one(self, label: str, end: int) -> bool:
        """Whether an 'i' in the other case than the caption's letters opens a roman
        numbering: a '(ii)' follows it."""
        if self.upper is None or label not in ("i", "I") or label.isupper() == self.upper:
            return False
        return f"({label * 2})" in self.text[end:]

    def _may_name_sub_panels(self, cand: _Candidate, before: str, marker: bool = False) -> bool:
        """Whether labels with a digit in parentheses name sub-panels of known panels: two or
        more ("(A1 and A2) its tomogram"), a marker ("(A1) Light stimulus"), a place in the
        figure ("18 μm wide in (A1)"), or one whose next sub-panel is named in parentheses
        soon after ("showing early synchronous (A1) and mixed ... release (A2)"); not one
        naming a thing ("the active promoter (A1)")."""
        if cand.form != "paren":
            return False
        if len(cand.labels) > 1 or marker or _last_word(before).lower() in _PLACE_WORDS:
            return True
        label = cand.labels[0]
        digits = _SUB_PANEL_NUMBER.match(label, 1)
        if digits is None:
            return False
        following = f"({label[0]}{int(digits.group()) + 1})"
        return self.text.find(following, cand.end, cand.end + _SUB_PANEL_REACH) >= 0

    def _is_new_valid(
        self, labels: list[str], any_case: bool = False, sub_panels: bool = False
    ) -> bool:
        """Whether the new labels continue the caption's sequence (any_case: in either
        letter case, for the label expected next; sub_panels: labels with a digit may name
        sub-panels of a known panel, see _may_name_sub_panels)."""
        highest = self.highest
        # Panels named by plain letters so far: a label with a digit names something else
        # ("Subcluster A1, red: A2"), unless it opens the next letter ("(A) ... (B) ... (C1)
        # ... (C2)") or names sub-panels of a known panel.
        plain = bool(self.order) and all(len(k) == 1 for k in self.order)
        previous = ""
        first_new = True
        for lab in labels:
            if _key(lab) in self.known:
                continue
            letter = _letter(lab)
            if plain and lab[1:2].isdigit() and letter != previous:
                next_code = (highest or 0) + 1
                if not self._sub_panel_opens(lab):
                    return False
                sub_panel = sub_panels and _key(letter) in self.known
                if not sub_panel and (
                    _key(letter) in self.known or ord(letter.upper()) != next_code
                ):
                    return False
            previous = letter
            if self.upper is not None and letter.isupper() != self.upper and not any_case:
                return False
            code = ord(letter.upper())
            if highest is None:
                if letter.upper() != "A":
                    return False
            elif code > highest + (MAX_GAP if first_new or len(labels) == 1 else MAX_GROUP_GAP):
                return False
            first_new = False
            highest = code if highest is None else max(highest, code)
        return True

    def _sub_panel_opens(self, label: str) -> bool:
        """Whether a sub-panel label ("C1", "E6") opens or continues its panel's numbering:
        "C1", or "E6" after "E5" ("control shRNA/RFP cells (E6–E9)" numbers animals)."""
        digits = _SUB_PANEL_NUMBER.match(label, 1)
        if digits is None:
            return True
        number = int(digits.group())
        return number <= 1 or _key(f"{label[0]}{number - 1}") in self.known

    def _expected_next(self) -> str | None:
        if self.highest is None:
            return None
        nxt = chr(self.highest + 1)
        return nxt if self.upper else nxt.lower()

    def _introduce(self, labels: list[str]) -> list[str]:
        new = []
        for lab in labels:
            if _key(lab) not in self.known:
                self.known[_key(lab)] = lab
                self.order.append(lab)
                new.append(lab)
                code = ord(lab[0].upper())
                if self.highest is None or code > self.highest:
                    self.highest = code
        if self.upper is None and labels:
            self.upper = _letter(labels[0]).isupper()
        return new

    def classify(self, cand: _Candidate) -> None:
        labels = cand.labels
        known = self.known
        new = [lab for lab in labels if _key(lab) not in known]
        pos = cand.start
        if cand.form == "primed":
            # A primed view of a panel named already ("(red in A, white in A′)"): a new
            # panel named inline, which leaves the state of markers and lists as it is.
            if new and all(_key(_letter(lab)) in known for lab in new):
                if self._is_new_valid(new):
                    self._introduce(new)
                    self.inline.append((pos, new))
            return
        before = self._before(pos)
        word_before = _last_word(before).lower()
        if word_before in _NAMING_WORDS:
            return  # "Lake basins are identified by letters (A–F)": things in one image
        if word_before in _INDIVIDUALS and all(any(ch.isdigit() for ch in lab) for lab in labels):
            return  # "from five experimental mice (E1–E5)": the animals, numbered
        if len(labels) == 1 and self._roman_one(labels[0], cand.end):
            return  # "(H) Crus1. (i) Cell positions. (ii) Density": numbered parts, not I
        if cand.in_word and not new:
            # "In (C) the error bars are smaller ...": a back-reference, which ends a list
            # of markers.
            self.last_label_pos = pos
            self.last_label_was_marker = self.last_label_was_inline = False
            return
        nested = self._inside_parenthesis(cand)
        at_sentence = not nested and self._sentence_start_before(pos, before)
        if (
            at_sentence
            and cand.form == "paren"
            and len(new) == len(labels)
            and self._is_new_valid(labels, sub_panels=True)
        ):
            # The common case, "... end of a sentence. (B) Next panel": a marker whatever
            # else the context says (what _classify_paren decides for it, without the tests).
            self.last_label_was_inline = False
            self._marker(cand, new)
            self.last_label_pos = pos
            return
        in_list = self.last_label_was_marker and self._same_sentence(pos)
        # After an inline label of the same sentence no label heads a list item.
        at_list = (
            not nested
            and not self._continues_inline_labels(cand)
            and self._list_position(cand, before, in_list)
        )
        capital = self._follows_capital(cand)

        if cand.form == "bare":
            kind = self._classify_bare(cand, before, new, at_sentence, at_list, capital)
        else:
            kind = self._classify_paren(cand, before, new, at_sentence, at_list, capital)
        if kind is None:
            if not new and cand.form != "bare":  # a back-reference ends a list of markers
                if not at_sentence and self._names_again(cand, before):
                    self.mentions.append((pos, [known[_key(lab)] for lab in labels]))
                self.last_label_pos = pos
                self.last_label_was_marker = False
                self.last_label_was_inline = False
            return
        if cand.form == "bare" and cand.delim == ",":
            self.comma_style = True
        self.last_label_was_inline = kind == "inline"
        if kind == "marker":
            self._marker(cand, new)
        elif kind == "inline":
            self._introduce(new)
            self.inline.append((pos, new))
            self.last_label_was_marker = False
        self.last_label_pos = pos

    def _classify_paren(self, cand, before, new, at_sentence, at_list, capital) -> str | None:
        marker_pos = at_sentence or at_list
        if cand.form == "close" and not marker_pos:
            # 'a) positive b) negative': the next label opens the next description;
            # 'segments labeled a–e)' names no panel.
            expected = self._expected_next()
            if new and self._continues_inline_labels(cand):
                return "inline"  # "for a) SL clustering, b) for AL": the list stays inline
            if not (new and expected and _key(cand.labels[0]) == _key(expected)):
                # 'results for a) SL clustering, b) for AL': a first 'a)' in mid-sentence
                # names a panel inline when a 'b)' follows it.
                if self._first_of_close_list(cand):
                    return "inline"
                return None
            marker_pos = not self._inside_parenthesis(cand)
        if (
            not marker_pos
            and capital
            and new
            and self._is_new_valid(cand.labels, sub_panels=self._may_name_sub_panels(cand, before))
            and _last_word(before) not in _FUNCTION_WORDS
            # "genes include, (A) Wβ, (B) Wip1"; but the next panel after a comma that
            # should have been a full stop ("... three experiments, (C) Confocal ...").
            and (not before.rstrip().endswith(",") or self._next_marker(cand))
            and not self._continues_inline_labels(cand)
        ):
            # "Title with no full stop (A) Schematic ...", "... 2019) (C) Synthesis ..."
            if len(new) == len(cand.labels) or before.endswith(")"):
                marker_pos = True
        if new:
            # "(A, B) ... c-d) ...": the next label in the other case still opens a panel.
            next_in_any_case = marker_pos and _key(cand.labels[0]) == _key(
                self._expected_next() or ""
            )
            if not self._is_new_valid(
                cand.labels,
                any_case=next_in_any_case,
                sub_panels=self._may_name_sub_panels(cand, before, marker_pos),
            ):
                return None
            if marker_pos:
                return "marker"
            if cand.panel_word or not self._abbreviation(cand, before):
                return "inline"
            return None
        # Every label already introduced: a back-reference ("(A) is reversed from the
        # original"), or a more specific marker.
        if marker_pos and not self._statement_about(cand) and self._more_specific(cand.labels):
            return "marker"
        return None

    def _classify_bare(self, cand, before, new, at_sentence, at_list, capital) -> str | None:
        labels = cand.labels
        if not cand.delim and any(lab[1:2].isdigit() for lab in labels):
            return None  # "B6 mice were crossed", "F1 indicates an F1 hybrid": names
        if cand.delim == "." and _INITIAL_BEFORE.search(before):
            return None  # a person's initials: "Image and illustration by F. A. Esteves"
        if new and len(new) < len(labels) and self.order and not self.bare_delims:
            # Letters naming things in a caption whose panels are marked in parentheses,
            # known ones among them: "(A) Schematic ... A, B, C, and D, genotyping primers."
            return None
        single_upper_a = len(labels) == 1 and labels[0] in ("A", "I") and not cand.delim
        if cand.delim == "." and not capital and not self._follows_digit(cand):
            return None  # "A. thaliana", "E. coli", "vitamin A." (but "E. 3D scatter plot")
        if not new:
            if (
                (at_sentence or at_list)
                and not self._statement_about(cand)
                and self._more_specific(labels)
            ):
                return "marker" if (cand.delim or self.bare_style) else None
            return None
        if not self._is_new_valid(labels):
            return None
        follows = (
            self._follows_word(cand)
            or cand.delim in (",", ":", ".")
            # "Panel B (δH 2.4-4.0 ppm) demonstrates ...": a parenthesis after a named panel
            or (cand.panel_word and self.text[cand.end : cand.end + 2] == " (")
        )
        if not follows:
            return None
        expected = self._expected_next()
        if at_sentence or at_list or cand.panel_word:
            if self.bare_delims == {"."} and cand.delim != "." and not cand.panel_word:
                return None  # "A. ... B. ... mixed bases W: A or T, D: A, G or T"
            if not cand.delim and not cand.panel_word:
                # Nature's 'a Title': lower case is unambiguous at a sentence start; an
                # upper-case 'A' may be the article, so its 'B' must follow later.
                if single_upper_a and not self._confirmed(cand):
                    return None
                # "...(pSB1075); a volume corresponding to ...": after a ';' a lone 'a' is
                # the article unless a bare 'b' follows.
                # So after a ':' ("... in the skin: a functional model. A: ...").
                after_colon = before.rstrip().endswith(":")
                if (
                    labels == ["a"]
                    and (after_colon or not at_sentence)
                    and not self._confirmed(cand)
                ):
                    return None
                if labels[0].isupper() and not (capital or self.bare_style):
                    return None
                if labels[0].islower() and self.order and labels[0] != expected:
                    if not self.bare_style:
                        return None
            if cand.delim == "," and labels[0].isupper() and not self.order and not cand.panel_word:
                if not self._confirmed(cand):
                    return None
            return "marker"
        # Mid-sentence: only the exact next label of a caption already labelled bare
        # ('Light-induced b temperature and c current'), or "of A, THL and B, MmPPOX".
        if labels[0] in ("a", "A") and not self.order:
            if cand.delim == "," and labels[0] == "A" and self._confirmed(cand):
                if (
                    self._follows_capitalised_word(cand)
                    and _last_word(before) not in _FUNCTION_WORDS
                ):
                    return "marker"  # "... acid pathway A, Antibodies targeting ..."
                return "inline"
            return None
        if expected is not None and _key(labels[0]) == _key(expected):
            if (
                self.bare_delims == {"."}
                and cand.delim == "."
                and capital
                and _UNIT_BEFORE.search(before)
            ):
                # "Scale bar = 0.5μm I. Brown adipose tissue ...": the full stop that
                # should end the scale bar's sentence is missing, and the next marker
                # opens the next panel.
                return "marker"
            if self.bare_style and cand.delim in ("", ","):
                return "inline"
            if self.comma_style and cand.delim == ",":  # "of A, THL and B, MmPPOX"
                return "inline"
        return None

    def _next_marker(self, cand: _Candidate) -> bool:
        """Whether the candidate is the one label expected next, after a marker."""
        expected = self._expected_next()
        return (
            self.last_label_was_marker
            and expected is not None
            and len(cand.labels) == 1
            and cand.labels[0] == expected
        )

    def _names_again(self, cand: _Candidate, before: str) -> bool:
        """Whether known labels met mid-sentence name what their panels show ("the activity
        of each fraction (C) was tested"), rather than point at them ("the scale bar in
        (B)", "as in (A) and (B)"), make them a sentence's subject ("... and (D) shows the
        quantification"), give a scale bar's length ("10 μm (F–G′)") or sit in a note on
        scale bars, genotypes or statistics, or in brackets."""
        pos = cand.start
        if self._refers_back(cand, before):
            return False
        if (_last_word(before) in _AND_WORDS or before.endswith(",")) and self._statement_about(
            cand
        ):
            return False
        if _UNIT_BEFORE.search(before):
            return False
        if _NOTE_SENTENCE.match(self.text, self._sentence_start(pos, at_splits=False)):
            return False
        return self.text.rfind("[", 0, pos) <= self.text.rfind("]", 0, pos)

    def _refers_back(self, cand: _Candidate, before: str) -> bool:
        """After a word that points at a panel ("in", "as", "see"), or joined to a label
        that does ("in (A) and (B)")."""
        if _last_word(before).lower() in _POINTING_WORDS:
            self.last_reference_end = cand.end
            return True
        between = self.text[self.last_reference_end : cand.start]
        if self.last_reference_end >= 0 and _JOINED_ONLY.fullmatch(between):
            self.last_reference_end = cand.end
            return True
        return False

    def _first_of_close_list(self, cand: _Candidate) -> bool:
        """A first label 'a)' (no label before it) that a 'b)' follows in the caption."""
        if self.order or _key(cand.labels[0]) != "a":
            return False
        return self._next_label_follows(cand, r"\)")

    def _confirmed(self, cand: _Candidate) -> bool:
        """A first bare 'A' counts only when a bare 'B' (same delimiter) follows."""
        return self._next_label_follows(cand, r"[.,:]?\s")

    def _next_label_follows(self, cand: _Candidate, written: str) -> bool:
        """Whether the letter after the candidate's last label follows it in the caption,
        as `written` (a regex of what comes after the letter) says."""
        nxt = chr(ord(cand.labels[-1][0]) + 1)
        return re.search(rf"(?<![\w(]){nxt}{written}", self.text[cand.end :]) is not None

    def _abbreviation(self, cand: _Candidate, before: str) -> bool:
        """'dorsal (D)', 'curcuminoid (C)': a lone label after a word with its initial, when
        it is not the label expected next; 'Hematoxylin and eosin (H and E)': two labels
        after two words joined by 'and' with their initials."""
        if len(cand.labels) == 2 and all(len(lab) == 1 for lab in cand.labels):
            first, second = cand.labels
            words = [w.lstrip('(["“') for w in before.split()[-3:]]
            return (
                len(words) == 3
                and words[1].lower() in ("and", "&")
                and words[0][:1].casefold() == first.casefold()
                and words[2][:1].casefold() == second.casefold()
                and _key(first) != _key(self._expected_next() or "")
            )
        if len(cand.labels) != 1 or len(cand.labels[0]) != 1:
            return False  # "(A′)", "(B2)" abbreviate nothing
        lab = cand.labels[0]
        expected = self._expected_next()
        if expected is not None and _key(lab) == _key(expected):
            return False
        word = _last_word(before).lstrip('(["“')
        if word.lower() in _FUNCTION_WORDS:
            return False  # "are (A) Wild-type ...": no word abbreviated
        if not (word and word[0].casefold() == lab[0].casefold()):
            return False
        # A first "(A)" that a "(B)" after a word of another initial follows in the same
        # sentence names a panel ("AP-SSTR3-GFP (A) and AP-Smo-YFP (B)"), unlike "anterior
        # (A) and basal (B)" or "adenine (A)".
        return not (lab in "aA" and not self.order and self._b_names_no_word(cand))

    def _b_names_no_word(self, cand: _Candidate) -> bool:
        """Whether a '(B)' (the candidate's case) follows in its sentence after a word that
        does not start with b."""
        sentence_end = self.text.find(". ", cand.end)
        if sentence_end < 0:
            sentence_end = len(self.text)
        after = _AFTER_A[cand.labels[0]].search(self.text, cand.end, sentence_end)
        return after is not None and not after.group(1).lstrip('(["“').lower().startswith("b")

    def _more_specific(self, labels: list[str]) -> bool:
        keys = {_key(lab) for lab in labels}
        # A smaller group inside one named before, or across groups that overlap ("(A), (B),
        # (E), (F) Evening genes. (C), (D), (G), (H) Morning genes. (A)–(D) Diurnal
        # cycles."): each panel takes its smallest group.
        if any(keys < header for header in self.headers) or (
            len(keys) > 1 and keys <= set().union(*self.headers)
        ):
            return all(self.group_of.get(k, 10**6) > len(keys) for k in keys)
        # A panel named only inline so far gets its own marker.
        return all(k not in self.group_of for k in keys)

    def _marker(self, cand: _Candidate, new: list[str]) -> None:
        self._introduce(new)
        labels = [self.known[_key(lab)] for lab in cand.labels]
        self.splits.append((self._segment_end(cand.start), cand.end, labels))
        for lab in labels:
            k = _key(lab)
            self.group_of[k] = min(self.group_of.get(k, 10**6), len(labels))
        if len(labels) > 1:
            self.headers.append({_key(lab) for lab in labels})
        if cand.form == "bare":
            self.bare_style = True
            self.bare_delims.add(cand.delim)
        self.last_label_was_marker = True
        self.last_marker_labels = labels

    def _segment_end(self, start: int) -> int:
        """Where the text before a marker ends: at the marker, or before the 'and' / 'or' that
        joins it to a list item ("A: osteophyte at TS; and B: narrowing": A's text ends at
        the ';'; "A: without X and B: with X": at 'X')."""
        if not self.text.endswith(_JOINTS, 0, start):
            return start
        before = self.text[max(0, start - 8) : start]
        for joint in _JOINTS:
            if before.endswith(joint):
                if before[: -len(joint)].endswith((";", ",")):
                    return start - len(joint) + 1
                return start - len(joint)
        return start

    # -- result -------------------------------------------------------------------------

    def result(self) -> PanelParse:
        text = self.text
        if not self.order:
            return PanelParse((), text.strip())
        bounds = sorted({s for s, _, _ in self.splits})

        def next_split(pos: int) -> int:
            i = bisect.bisect_right(bounds, pos)
            return bounds[i] if i < len(bounds) else len(text)

        best: dict[str, tuple[int, str]] = {}  # key -> (group size, text)
        group_span: dict[str, tuple[int, int]] = {}  # key -> its group marker's text span
        for start, text_start, labels in self.splits:
            end = next_split(start)
            segment = text[text_start:end].strip()
            if segment[:2] == ". ":  # "(A). Representative plates ...": the stop separates
                segment = segment[2:].lstrip()
            elif segment[:1] == ",":  # "(B), one important hydroxyl group ...": so does a comma
                segment = segment[1:].lstrip()
            for lab in labels:
                k = _key(lab)
                size = len(labels)
                if k not in best or size < best[k][0]:
                    best[k] = (size, segment)
                    group_span[k] = (text_start, end)
        # A panel that only a group marker named, named again in a later sentence of the
        # marker's text, gets that sentence onward: its most specific text ("(A–C)
        # Membranes were separated. The activity of each fraction (C) was tested."). Named
        # first in the marker's own sentence ("(A and B) Wild-type (A) and mutant (B)
        # embryos."), it keeps the marker's text.
        for pos, labels in self.mentions:
            sentence = self._sentence_start(pos, at_splits=False)
            for lab in labels:
                k = _key(lab)
                if k not in group_span or best[k][0] < 2:  # not only a group marker's
                    continue
                text_start, end = group_span[k]
                if not text_start <= pos < end:
                    continue
                if sentence > text_start:
                    best[k] = (1, text[sentence:end].strip())
                del group_span[k]  # named in the marker's own sentence: its text stays
        first_inline = None
        for pos, labels in self.inline:
            start = self._sentence_start(pos)
            first_inline = start if first_inline is None else min(first_inline, start)
            segment = text[start : next_split(pos)].strip()
            for lab in labels:
                best.setdefault(_key(lab), (10**6, segment))
        lead_end = min([b for b in bounds] + ([first_inline] if first_inline is not None else []))
        panels = tuple(Panel(lab, best.get(_key(lab), (0, ""))[1]) for lab in self.order)
        return PanelParse(panels, text[:lead_end].strip())


# A length with its unit, ending the text before a label: a scale bar's ("Scale bar =
# 0.5μm I. Brown adipose tissue ...").
_UNIT_BEFORE = re.compile(r"\d\s*(?:[µμu]m|nm|mm|cm)$")

# Sentences that note something of panels rather than describe what they show: scale bars,
# genotypes, statistics ("Error bars are mean±s.e.m.; ... Student's t-test (H)").
_NOTE_SENTENCE = re.compile(
    r"(?:Scale|Bars?\b|Genotypes?|Error|Data\s+(?:are|represent)|Values|Statistic|Significan"
    r"|Results\s+are|Means?\b|\*|n\s*=|[Pp]\s*[<>=])"
)
# Words before a known label that point at its panel: "as in (A)", "the scale bar in (B)".
_POINTING_WORDS = frozenset(
    "in for on at from to by than between see as vs vs. versus within into of panel "
    "panels and/or".split()
)
_JOINED_ONLY = re.compile(r"\s*(?:,\s*)?(?:(?:and|or|&)\s*)?")

# The word before a "(B)" ("(b)") that follows a first "(A)" ("(a)").
_AFTER_A = {a: re.compile(rf"(\S+)\s*\(\s*{b}\s*\)") for a, b in (("A", "B"), ("a", "b"))}


def _boundary_pattern() -> re.Pattern:
    """A sentence end: '.', '!' or '?' (closing quotes or brackets allowed after it), spaces,
    then a capital, a digit or an opening bracket or quote. Not after an abbreviation
    ('Fig.', 'et al.', 'e.g.') nor after an initial ('J. Smith'): the word before the full
    stop, less its opening brackets, is looked behind for in the regex (by length, since
    a look-behind has a fixed width), so no Python code runs per full stop."""
    by_length: dict[int, list[str]] = {}
    for word in sorted(_ABBREVIATIONS):
        by_length.setdefault(len(word), []).append(re.escape(word))
    not_after = "".join(
        rf"(?<![\s(\[](?i:{'|'.join(words)})\.)(?<!^(?i:{'|'.join(words)})\.)"
        for words in by_length.values()
    )
    not_after += r"(?<![\s(\[][A-Z]\.)(?<!^[A-Z]\.)"
    # Or a full stop with no space, between a word and a capitalised word: text whose blocks
    # were joined without one ("... uranyl acetate.The bacteriophages ...").
    glued = r"(?<=[a-z]{3}\.)(?=[A-Z][a-z]{2})"
    return re.compile(rf"[.!?](?:{not_after}['\"”’)\]]*\s+(?=[\"“(\[]?[A-Z0-9])|{glued})")


_BOUNDARY = _boundary_pattern()
_VERB_AFTER = re.compile(
    r"\s+(?:is|are|was|were|has|have|shows?|represents?|depicts?|illustrates?|corresponds?"
    r"|indicates?)\b"
)
# "(B) scale bar is 1 mm": a statement about a panel already described.
_SCALE_BAR_AFTER = re.compile(r"\s+scale\s+bars?\b", re.IGNORECASE)
_CAPITALISED_WORD = re.compile(r"\s*[“\"‘]?[A-Z][a-z]")
_SPACE_LETTER = re.compile(r"\s+[^\W\d_]")
