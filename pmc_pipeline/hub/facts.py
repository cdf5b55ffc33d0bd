"""What the Hub files say about a build, gathered once from its published files and the
content of its stats.json: the files of each table and split (with their bytes), the row
counts, and the licence mix of the kept pairs.

Counts come from stats.json, whose accounting identity ties them to the files; the licence
mix is read from the `license` column of the published Parquet pairs (that column only).
Nothing here looks at a clock, so the same build gives the same facts.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field

import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pmc_pipeline.licenses import COMMERCIAL_USE
from pmc_pipeline.outputs import Output

# Split names the Hugging Face loader accepts (datasets' own rule: words joined by dots).
HF_SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$")
# The one split of the figures and articles tables, which are not divided by split.
FULL_SPLIT = "full"
UNKNOWN_LICENSE = "unknown"  # a pair whose article states no licence we recognise
_SPLIT_ORDER = ("train", "validation", "val", "dev", "test")


@dataclass(frozen=True)
class Part:
    """Files of one table (or one split of it): a glob relative to OUTPUT, the files it
    matches, their total bytes and the rows (samples) they hold."""

    pattern: str
    files: tuple[str, ...]
    bytes: int
    rows: int


@dataclass(frozen=True)
class BuildFacts:
    stats: dict
    pairs: dict[str, Part]  # split -> parquet/pairs/<split>/*.parquet
    shards: dict[str, Part]  # split -> webdataset/<split>/*.tar
    figures: Part
    articles: Part
    licenses: dict[str, int]  # licence code (or 'unknown') -> kept pairs, most first
    skipped_splits: tuple[str, ...] = field(default=())  # names the Hub loader refuses

    @property
    def n_pairs(self) -> int:
        """Every kept pair, in the splits the Hub loader refuses too."""
        return self.stats.get("pairs", 0)

    @property
    def splits(self) -> list[str]:
        """The splits the Hub's loader accepts, in order (the cards' splits)."""
        return list(self.pairs)

    @property
    def build_splits(self) -> list[str]:
        """Every split that holds pairs, in order (Croissant names them all)."""
        return split_order([s for s, n in self.stats.get("pairs_per_split", {}).items() if n])

    def license_share(self, codes) -> float:
        """Share of kept pairs under one of `codes` (0 when there are no pairs)."""
        total = sum(self.licenses.values())
        return sum(n for c, n in self.licenses.items() if c in codes) / total if total else 0.0


def license_terms(code: str) -> set[str]:
    """The Creative Commons terms of a licence code: 'CC BY-NC-ND' -> {'BY', 'NC', 'ND'}."""
    return set(code[len("CC ") :].split("-")) if code.startswith("CC BY") else set()


def non_commercial_or_no_derivatives(licenses) -> list[str]:
    """Codes among `licenses` that forbid commercial use or derivatives (NC or ND)."""
    return sorted(c for c in licenses if license_terms(c) & {"NC", "ND"})


def commercial_use(licenses) -> list[str]:
    """Codes among `licenses` that allow commercial reuse (pmc_pipeline.licenses)."""
    return sorted(c for c in licenses if c in COMMERCIAL_USE)


def split_order(splits) -> list[str]:
    """train, validation, val, dev, test first (the order readers expect), then the rest."""
    known = [s for s in _SPLIT_ORDER if s in splits]
    return known + sorted(s for s in splits if s not in _SPLIT_ORDER)


def _files(output: Output, relpath: str, suffix: str, *, recursive: bool) -> dict[str, int]:
    """Relative path -> size of the files under OUTPUT/relpath ending in suffix (a '.tmp' a
    crashed writer left has another suffix and is never counted)."""
    root = output.path()
    selector = pafs.FileSelector(output.path(relpath), allow_not_found=True, recursive=recursive)
    return {
        posixpath.relpath(info.path, root): info.size
        for info in output.fs.get_file_info(selector)
        if info.type == pafs.FileType.File and info.path.endswith(suffix)
    }


def _part(output: Output, folder: str, suffix: str, rows: int) -> Part:
    files = _files(output, folder, suffix, recursive=False)
    return Part(f"{folder}/*{suffix}", tuple(sorted(files)), sum(files.values()), rows)


def read_license_counts(output: Output, files) -> dict[str, int]:
    """Kept pairs per licence code, from the `license` column of the Parquet pair files;
    most frequent first, ties by code."""
    counts: Counter = Counter()
    for relpath in files:
        with output.fs.open_input_file(output.path(relpath)) as f:
            column = pq.read_table(f, columns=["license"]).column("license")
        for item in pc.value_counts(column).to_pylist():
            counts[item["values"] or UNKNOWN_LICENSE] += item["counts"]
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def gather(output: Output, stats: dict) -> BuildFacts:
    """The facts of the build at `output` whose stats.json holds `stats`."""
    per_split = {s: n for s, n in stats.get("pairs_per_split", {}).items() if n}
    usable = [s for s in per_split if HF_SPLIT_NAME.match(s)]
    pairs = {s: _part(output, f"parquet/pairs/{s}", ".parquet", per_split[s]) for s in usable}
    shards = {s: _part(output, f"webdataset/{s}", ".tar", per_split[s]) for s in usable}
    order = split_order(usable)
    all_pair_files = sorted(
        _files(output, "parquet/pairs", ".parquet", recursive=True)
    )  # every split's, the skipped ones too: the licence mix is the whole build's
    return BuildFacts(
        stats=stats,
        pairs={s: pairs[s] for s in order},
        shards={s: shards[s] for s in order},
        figures=_part(output, "parquet/figures", ".parquet", stats["figures"]["seen"]),
        articles=_part(output, "parquet/articles", ".parquet", stats["articles"]["listed"]),
        licenses=read_license_counts(output, all_pair_files),
        skipped_splits=tuple(sorted(set(per_split) - set(usable))),
    )
