"""Helpers shared by the benchmarks: timing, peak memory, and writing results into
docs/benchmarks.md.

Each benchmark owns one section of docs/benchmarks.md, delimited by
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; rerunning a benchmark replaces its own
section and leaves the others alone.
"""

from __future__ import annotations

import platform
import re
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = PROJECT_ROOT / "docs" / "benchmarks.md"
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"

_HEADER = """# Benchmarks

Every figure here was measured by a script in `bench/` and written into this file by it;
each section names the command that produced it. Speeds are compared as ratios against
peers run in the same process on the same data, so they say something across machines.
"""


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The best wall time of `repeat` calls of fn, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def write_section(name: str, markdown: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section `name` of docs/benchmarks.md with `markdown`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
