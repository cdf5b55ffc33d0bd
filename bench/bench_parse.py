"""JATS parse speed and quality: `pmc_pipeline.jats.parse_article` against
`pubmed_parser.parse_pubmed_caption` (what PMC-15M used) and a bare `lxml.etree.fromstring`
on the same bytes, in one process, over the real fixture articles
(../shared/fixtures/jats, with expected.json).

Each round times every contender on every document in turn (the order turning from round
to round, so that none always goes first), and each (contender, document) keeps its best
time over the rounds: on two cores shared with other work, the per-document
best is steadier than the best of whole passes. Figures/s is the corpus's figure count
(every <fig> and table-as-image we find) over the summed best times, the same count for every
contender, so the rates compare work on the same input.

    python -m bench parse [--rounds=N]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

import pmc_pipeline.captions as captions_module
from bench.common import SHARED_FIXTURES, machine, table, write_section
from pmc_pipeline.captions import analyze_caption, layout, panels, taxonomy
from pmc_pipeline.captions.text import collapse_spaces
from pmc_pipeline.jats import parse_article
from pmc_pipeline.jats.refs import cut_reference_lists


@dataclass
class Doc:
    name: str
    xml: bytes
    expected: dict
    nxml_path: Path  # a copy named .nxml, for pubmed_parser's path input


def load_corpus(copies: Path) -> list[Doc]:
    """The fixture articles, each also copied to `copies` as N.nxml (the fixtures are .xml
    and .nxml alike; pubmed_parser treats the two differently)."""
    jats_dir = SHARED_FIXTURES / "jats"
    files = json.loads((jats_dir / "expected.json").read_text(encoding="utf-8"))["files"]
    docs = []
    for i, name in enumerate(sorted(files)):
        xml = (jats_dir / name).read_bytes()
        copy = copies / f"{i:03d}.nxml"
        copy.write_bytes(xml)
        docs.append(Doc(name, xml, files[name], copy))
    return docs


def pubmed_parser_file_object(doc: Doc) -> list[dict]:
    """pubmed_parser's fastest input: a file object (etree.parse, no namespace pass)."""
    import pubmed_parser

    return pubmed_parser.parse_pubmed_caption(io.BytesIO(doc.xml)) or []


def pubmed_parser_bytes(doc: Doc) -> list[dict]:
    """The XML itself, which read_xml() first tries as a file name, then parses."""
    import pubmed_parser

    return pubmed_parser.parse_pubmed_caption(doc.xml) or []


def pubmed_parser_path(doc: Doc) -> list[dict]:
    """A path to a .nxml file, as PMC-15M ran it over the OA packages: read_xml() then
    strips namespaces in a Python pass over every element."""
    import pubmed_parser

    return pubmed_parser.parse_pubmed_caption(str(doc.nxml_path)) or []


OURS = "pmc_pipeline.jats.parse_article(bytes)"
OURS_WHOLE = "pmc_pipeline.jats.parse_article(bytes, read_references=True)"
CONTENDERS: dict[str, Callable[[Doc], object]] = {
    OURS: lambda doc: parse_article(doc.xml),
    OURS_WHOLE: lambda doc: parse_article(doc.xml, read_references=True),
    "pubmed_parser.parse_pubmed_caption(path.nxml)": pubmed_parser_path,
    "pubmed_parser.parse_pubmed_caption(bytes)": pubmed_parser_bytes,
    "pubmed_parser.parse_pubmed_caption(BytesIO)": pubmed_parser_file_object,
    "bare lxml.etree.fromstring(bytes)": lambda doc: etree.fromstring(doc.xml),
}
BARE = "bare lxml.etree.fromstring(bytes)"


def best_times(docs: list[Doc], rounds: int) -> dict[str, float]:
    """Per contender, the sum over documents of the best time of `rounds` runs."""
    best = {name: [float("inf")] * len(docs) for name in CONTENDERS}
    contenders = list(CONTENDERS.items())
    for round_ in range(rounds):
        # Whoever runs first on an article pays for bringing it and its own code back
        # into the caches; the order turns each round so no parser always goes first.
        turn = round_ % len(contenders)
        order = contenders[turn:] + contenders[:turn]
        for i, doc in enumerate(docs):
            for name, parse in order:
                start = time.perf_counter()
                try:
                    parse(doc)
                except Exception:  # pubmed_parser fails on some articles; time it anyway
                    pass
                best[name][i] = min(best[name][i], time.perf_counter() - start)
    return {name: sum(times) for name, times in best.items()}


def caption_cost(docs: list[Doc], rounds: int) -> tuple[float, float]:
    """(seconds, seconds): the sums over documents of the best time of parse_article and
    of the caption analysis of all its figures (types and panels, uncached), timed in turn."""
    # The lru_caches would time dictionary lookups: the uncached function, and the shared
    # tagging cache emptied before each timing.
    analyze = analyze_caption.__wrapped__
    clear_tagging = captions_module._scanned.cache_clear
    captions = [[(f.caption, f.title) for f in parse_article(doc.xml).figures] for doc in docs]
    parse_best = [float("inf")] * len(docs)
    analysis_best = [float("inf")] * len(docs)
    for _ in range(rounds):
        for i, doc in enumerate(docs):
            start = time.perf_counter()
            parse_article(doc.xml)
            parse_best[i] = min(parse_best[i], time.perf_counter() - start)
            clear_tagging()
            start = time.perf_counter()
            for caption, title in captions[i]:
                analyze(caption, title)
            analysis_best[i] = min(analysis_best[i], time.perf_counter() - start)
    return sum(parse_best), sum(analysis_best)


def caption_cost_parts(docs: list[Doc], rounds: int) -> dict[str, float]:
    """Seconds per part of the caption analysis (sums over documents of the best of `rounds`),
    each part timed right after a `parse_article` of its article, as in the pipeline (the
    parse leaves the caches cold for the analysis): where analyze_caption's time goes."""
    prepared = []
    for doc in docs:
        caps = [(f.caption or "", f.title) for f in parse_article(doc.xml).figures]
        collapsed = [(collapse_spaces(c), collapse_spaces(t) if t else t) for c, t in caps]
        hits = [taxonomy.scan(c) for c, _ in collapsed]
        hints = [taxonomy.panel_hints(h) for h in hits]
        prepared.append((caps, collapsed, hits, hints))
    parts: dict[str, Callable[[tuple], object]] = {
        "whitespace check (collapse_spaces)": lambda a: [collapse_spaces(c) for c, _ in a[0]],
        "automaton pass (taxonomy.scan)": lambda a: [taxonomy.scan(c) for c, _ in a[1]],
        "tagger: regexes at the hits, evidence, decision": lambda a: [
            taxonomy.tag_caption(c, h) for (c, _), h in zip(a[1], a[2], strict=True)
        ],
        "panel hints from the hits": lambda a: [taxonomy.panel_hints(h) for h in a[2]],
        "panel parser (panels.parse_collapsed)": lambda a: [
            panels.parse_collapsed(c, t, h) for (c, t), h in zip(a[1], a[3], strict=True)
        ],
        "  of which: finding label candidates": lambda a: [
            panels._candidates(c, h) for (c, _), h in zip(a[1], a[3], strict=True)
        ],
        "unlabelled panels (layout.unlabelled_panels)": lambda a: [
            layout.unlabelled_panels(c, taxonomy.layout_hits(h))
            for (c, _), h in zip(a[1], a[2], strict=True)
        ],
    }
    best = {name: [float("inf")] * len(docs) for name in parts}
    for _ in range(rounds):
        for i, doc in enumerate(docs):
            for name, part in parts.items():
                parse_article(doc.xml)
                start = time.perf_counter()
                part(prepared[i])
                best[name][i] = min(best[name][i], time.perf_counter() - start)
    return {name: sum(times) for name, times in best.items()}


def words(text: str | None) -> str:
    return " ".join((text or "").split())


def no_glued_words(ours: str, expected: str) -> bool:
    """Every space of `expected` between two characters is also in `ours`."""

    def spaced(text: str) -> set[int]:
        positions, count = set(), 0
        for part in text.split():
            if count:
                positions.add(count)
            count += len(part)
        return positions

    return spaced(expected) <= spaced(ours)


def quality(docs: list[Doc]) -> dict[str, dict[str, int]]:
    """Per parser: expected figures found, captions with the expected text (ignoring
    whitespace), captions with no glued words, articles that raised."""
    parsers = {
        OURS: lambda doc: {f.id: f.caption for f in parse_article(doc.xml).figures},
        "pubmed_parser.parse_pubmed_caption(path.nxml)": lambda doc: {
            c["fig_id"]: c.get("fig_caption") for c in pubmed_parser_path(doc)
        },
        "pubmed_parser.parse_pubmed_caption(bytes)": lambda doc: {
            c["fig_id"]: c.get("fig_caption") for c in pubmed_parser_bytes(doc)
        },
    }
    counts = {name: {"found": 0, "same_text": 0, "no_glue": 0, "failed": 0} for name in parsers}
    for doc in docs:
        for name, captions_of in parsers.items():
            try:
                captions = captions_of(doc)
            except Exception:
                counts[name]["failed"] += 1
                continue
            for fig in doc.expected["figs"]:
                if fig["id"] not in captions:
                    continue
                ours, theirs = words(captions[fig["id"]]), words(fig["caption"])
                counts[name]["found"] += 1
                counts[name]["same_text"] += ours.replace(" ", "") == theirs.replace(" ", "")
                counts[name]["no_glue"] += no_glued_words(ours, theirs)
    return counts


def target_verdict(times: dict[str, float]) -> str:
    """Issue 2's target, read off this run: at least 0.7 of the bare rate, and faster
    than pubmed_parser."""
    ours = times[OURS]
    rate = times[BARE] / ours
    faster_than = [n for n, t in times.items() if n.startswith("pubmed_parser") and t > ours]
    slower_than = [n for n, t in times.items() if n.startswith("pubmed_parser") and t <= ours]
    parts = [
        f"Target: at least 0.7 of the bare rate — this run {rate:.2f} "
        f"({'met' if rate >= 0.7 else 'not met'})."
    ]
    if faster_than:
        parts.append("Faster than " + ", ".join(f"`{n}`" for n in faster_than) + ".")
    if slower_than:
        parts.append("Slower than " + ", ".join(f"`{n}`" for n in slower_than) + ".")
    whole = times[BARE] / times[OURS_WHOLE]
    parts.append(
        f"With the reference lists parsed too (`read_references=True`) the rate is "
        f"{whole:.2f}: extraction adds {1 / whole - 1:.0%} to a bare parse of every byte."
    )
    return " ".join(parts)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench parse")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    command = " ".join(["python -m bench parse", *argv])

    with tempfile.TemporaryDirectory() as copies:
        docs = load_corpus(Path(copies))
        markdown = report(docs, args.rounds, command)
    print(markdown)
    write_section("parse", markdown)


def report(docs: list[Doc], rounds: int, command: str) -> str:
    n_figures = sum(len(parse_article(doc.xml).figures) for doc in docs)
    n_expected = sum(len(doc.expected["figs"]) for doc in docs)
    megabytes = sum(len(doc.xml) for doc in docs) / 1e6
    times = best_times(docs, rounds)
    bare = times[BARE]
    cuts = [cut_reference_lists(doc.xml) for doc in docs]
    cut = sum(count > 0 for _, count in cuts)
    cut_share = 1 - sum(len(data) for data, _ in cuts) / sum(len(doc.xml) for doc in docs)
    rows = [
        [
            f"`{name}`",
            f"{seconds * 1000:.1f}",
            f"{len(docs) / seconds:,.0f}",
            f"{n_figures / seconds:,.0f}",
            f"{bare / seconds:.2f}",
        ]
        for name, seconds in times.items()
    ]
    speed = table(["parser", "ms (sum of best)", "articles/s", "figures/s", "rate vs bare"], rows)
    verdict = target_verdict(times)
    parse_seconds, analysis_seconds = caption_cost(docs, rounds)
    share = analysis_seconds / parse_seconds
    captions_line = (
        f"Caption analysis (`pmc_pipeline.captions.analyze_caption`: figure types and panels, "
        f"issue 16) of the same {n_figures} figures: {analysis_seconds * 1000:.1f} ms against "
        f"{parse_seconds * 1000:.1f} ms for `parse_article`, timed in turn per article, best "
        f"of {rounds}: {share:.1%} of the parse time (target at most 10%: "
        f"{'met' if share <= 0.10 else 'not met'})."
    )

    part_seconds = caption_cost_parts(docs, rounds)
    parts_table = table(
        ["part of analyze_caption", "ms", "share of parse_article"],
        [
            [name, f"{sec * 1000:.1f}", f"{sec / parse_seconds:.3f}"]
            for name, sec in part_seconds.items()
        ],
    )

    counts = quality(docs)
    quality_rows = [
        [
            f"`{name}`",
            f"{c['found']} / {n_expected}",
            f"{c['same_text']}",
            f"{c['no_glue']}",
            f"{c['failed']} / {len(docs)}",
        ]
        for name, c in counts.items()
    ]
    right = table(
        [
            "parser",
            "expected figures found",
            "caption text as expected",
            "no glued words",
            "articles that raised",
        ],
        quality_rows,
    )

    markdown = f"""
## JATS parsing (per core)

`{command}` — over the {len(docs)} real articles of the fixture corpus ({megabytes:.1f} MB;
classic nxml, 2026 cloud XML, OAI-PMH records, Europe PMC and eLife XML), {n_figures}
figures and tables-as-images. Each round times every parser on every article in turn,
the order turning each round so that none always goes first; each (parser, article)
keeps its best of {rounds} rounds, and the table sums them.
Figures/s divides the same figure count by each parser's time. One process, one thread.
Machine: {machine()}.

{speed}

{verdict}

{captions_line}

Where that time goes (each part timed alone, right after the `parse_article` of its article,
best of {rounds}; the indented row is part of the one above it). Each part alone pays for
the caches that `parse_article` left cold, so the parts add up to more than the whole.

{parts_table}

`parse_article` parses safely (no DTD, no network, entity declarations refused) and
extracts everything `pmc-pipeline parse` prints: metadata, licence, every figure and
table-as-image with label, full caption, graphics and roles, placement, and the
sentences citing it. By default it does not parse the reference lists at the end of
`<back>`, which nothing it outputs reads ({cut} of the {len(docs)} articles have one cut;
{cut_share:.0%} of the corpus's bytes): they are cut out of the bytes before lxml sees
them and the cut is checked on the tree (docs/jats.md). Its output is the same with and
without the cut on every article here (tests/test_jats_refs.py); what the cut gives up
is the well-formedness check inside the reference list.

`pubmed_parser` is timed with each input its `read_xml` accepts: a
`.nxml` path (how PMC-15M ran it over the OA packages; a Python pass then strips
namespaces from every element), the XML bytes (first tried as a file name), and a file
object (neither cost; its fastest case, and not how it was used).

What each gets right, against expected.json ({n_expected} figures; caption text compared
with all whitespace removed; glued words: a space of the expected caption missing):

{right}

`pubmed_parser` finds nothing in OAI-PMH-wrapped records unless given a `.nxml` path
(its namespace pass), raises on articles where a figure has no caption, and keeps only
the text one level below each caption child, which loses and glues words across inline
markup. Our one caption that differs drops a TeX duplicate of a MathML formula, as
docs/jats.md explains.
"""
    return markdown


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
