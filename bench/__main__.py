"""Run benchmarks: `python -m bench` (all) or `python -m bench parse fetch ...`.

Each benchmark is a module bench/bench_<name>.py with a `main(argv) -> None` that prints its
table and writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")] or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}")
        return 2
    for name in names:
        print(f"== bench {name}", flush=True)
        importlib.import_module(f"bench.bench_{name}").main([a for a in argv if a.startswith("-")])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
