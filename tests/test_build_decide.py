"""The decide pipeline's two forms give the same decisions: one task streaming the staged
heads (beam_jobs/one_place.py, builds of up to dedupe.IN_ONE_PLACE_UP_TO expected figures)
and the heads through the runner's shuffles with the staged dedupe (larger builds). Both run
here on one staging that holds what the decisions weigh: two generations (a daily update),
several versions of an article (the newest kept, or all with --all-versions), a takedown, a decontamination
list, exact and near duplicates, and figures that failed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers.build_checks import assert_same_output, check_build

from beam_jobs import build_dataset
from beam_jobs import transforms as T
from pmc_pipeline import dedupe
from pmc_pipeline.mirror import write_mirror

pytestmark = pytest.mark.slow

SEED = 5
SMALL = {"pdf_scale": 0.02, "supplement_scale": 0.1, "workers": 1}
FAST = ["--chunk-size", "2", "--shard-size", "25", "--split", "train=0.6,val=0.2,test=0.2"]


def build(root: Path, out: Path, *extra: str) -> int:
    argv = ["--layout", "cloud", "--root", str(root), "--output", str(out), *FAST, *extra]
    return build_dataset.run(argv)


def record_decisions(monkeypatch, record: Path) -> None:
    """Every decision part the build writes, as written, recorded into `record` as JSON lines
    (the decision files are work files, removed once the build is published; a file, as the
    runner pickles the steps that call write_decisions)."""
    write = T.write_decisions

    def recording(output_uri, part, rows):
        summary = write(output_uri, part, rows)  # sorts the rows
        with open(record, "a", encoding="utf-8") as out:
            out.write(json.dumps({"part": part, "rows": rows}, sort_keys=True) + "\n")
        return summary

    monkeypatch.setattr(T, "write_decisions", recording)


def recorded(record: Path) -> dict[int, list[dict]]:
    parts: dict[int, list[dict]] = {}
    for line in record.read_text(encoding="utf-8").splitlines():
        written = json.loads(line)
        assert written["part"] not in parts
        parts[written["part"]] = written["rows"]
    return parts


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """(mirror, output with two generations staged, the assemble options)."""
    base = tmp_path_factory.mktemp("decide")
    small, large, out = base / "small", base / "large", base / "out"
    write_mirror(small, "cloud", 24, SEED, **SMALL)
    write_mirror(large, "cloud", 40, SEED, **SMALL)
    assert build(small, out, "--phase", "extract", "--all-versions") == 0
    assert build(large, out, "--phase", "extract", "--all-versions") == 0
    assert len({c.name[:6] for c in (out / "staging").glob("g*")}) == 2
    figures = staged_kept_figures(out)
    takedown, hashes = base / "takedown.txt", base / "hashes.txt"
    takedown.write_text(f"{figures[0]['pmcid']}\n")
    hashes.write_text(f"{figures[-1]['pixel_sha256']} an evaluation image\n")
    return large, out, ["--takedown", str(takedown), "--decontaminate", str(hashes)]


def staged_kept_figures(out: Path) -> list[dict]:
    """The staged figures that were kept by extract, sorted by key."""
    rows = [
        row
        for path in sorted((out / "staging").glob("g*/figures.parquet"))
        for row in pq.read_table(path).to_pylist()
        if row["status"] == "kept"
    ]
    assert rows
    return sorted(rows, key=lambda r: r["key"])


@pytest.mark.parametrize("versions", ["--all-versions", "newest"])
def test_one_place_and_shuffled_decisions_are_the_same(staged, versions, tmp_path, monkeypatch):
    mirror, out, opts = staged
    opts = [*opts, *([versions] if versions.startswith("--") else [])]
    one_place, shuffled = tmp_path / "one_place", tmp_path / "shuffled"
    shutil.copytree(out, one_place)
    shutil.copytree(out, shuffled)
    used = []
    real = build_dataset.one_place.decide_in_one_place

    def spy(*args, **kwargs):
        used.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(build_dataset.one_place, "decide_in_one_place", spy)
    record_decisions(monkeypatch, tmp_path / "first.jsonl")
    assert build(mirror, one_place, "--phase", "assemble", *opts) == 0
    assert used, "the small build did not decide in one place"
    used.clear()
    monkeypatch.undo()
    monkeypatch.setattr(dedupe, "IN_ONE_PLACE_UP_TO", 0)  # as a build too large for it
    monkeypatch.setattr(build_dataset.one_place, "decide_in_one_place", spy)
    record_decisions(monkeypatch, tmp_path / "second.jsonl")
    assert build(mirror, shuffled, "--phase", "assemble", *opts) == 0
    assert not used

    first, second = recorded(tmp_path / "first.jsonl"), recorded(tmp_path / "second.jsonl")
    assert len(first) > 1 and first == second
    got = [row for rows in first.values() for row in rows]
    assert_same_output(one_place, shuffled)
    # The staging holds what the decisions are about.
    statuses = {(d["kind"], d["status"], d["reason"]) for d in got}
    for expected in [
        ("article", "removed", "takedown"),
        ("figure", "removed", "article_removed"),
        ("figure", "contaminated", "contaminated_exact"),
        ("figure", "kept", None),
    ]:
        assert expected in statuses, (expected, sorted(statuses, key=str))
    assert any(d["status"] == "duplicate" for d in got), sorted(statuses, key=str)
    pmcids = [a["pmcid"] for a in check_build(one_place)["articles"]]
    several = len(pmcids) > len(set(pmcids))
    assert several == (versions == "--all-versions"), "versions of an article published"
