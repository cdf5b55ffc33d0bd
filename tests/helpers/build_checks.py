"""Checks of a finished build's output, read back with the libraries users read it with
(webdataset, pyarrow, jsonschema). Shared by the build job's tests."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
import webdataset as wds

from pmc_pipeline import dedupe
from pmc_pipeline.manifest import check_identity
from pmc_pipeline.schemas_io import load_schema

PUBLISHED = ("webdataset", "parquet")


def read_table(out: Path, name: str) -> list[dict]:
    files = sorted((out / "parquet" / name).rglob("*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def read_samples(out: Path) -> list[dict]:
    shards = sorted(str(p) for p in (out / "webdataset").rglob("*.tar"))
    if not shards:
        return []
    return list(wds.WebDataset(shards, shardshuffle=False))


def check_build(out: Path, near_threshold: int | None = 4) -> dict:
    """Every contract of docs/design.md on one build; returns what was read for more checks."""
    out = Path(out)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["identity"] == {"holds": True, "problems": []}, stats["identity"]
    assert check_identity(stats) == []

    articles, figures, pairs = (
        read_table(out, "articles"),
        read_table(out, "figures"),
        read_table(out, "pairs"),
    )
    samples = read_samples(out)
    # Accounting identity, recounted from the files themselves.
    assert (
        stats["articles"]["listed"] == len(articles) == sum(stats["articles"]["by_status"].values())
    )
    assert stats["figures"]["seen"] == len(figures) == sum(stats["figures"]["by_status"].values())
    kept = sorted(f["key"] for f in figures if f["status"] == "kept")
    assert kept == sorted(p["key"] for p in pairs) == sorted(s["__key__"] for s in samples)
    assert len(kept) == stats["pairs"]
    # sizes.json beside each split's shards (what open_clip_train reads): every shard, counted.
    for split_dir in sorted(p for p in (out / "webdataset").iterdir() if p.is_dir()):
        sizes = json.loads((split_dir / "sizes.json").read_text())
        tars = sorted(p.name for p in split_dir.glob("*.tar"))
        assert sorted(sizes) == tars, split_dir
        per_shard = defaultdict(int)
        for sample in samples:
            if Path(sample["__url__"]).parent == split_dir:
                per_shard[Path(sample["__url__"]).name] += 1
        assert sizes == {t: per_shard[t] for t in tars}, split_dir
    assert sum(a["n_kept"] for a in articles) == len(kept)

    # Keys: no dots (WebDataset splits the extension at the first dot), unique.
    assert all("." not in k for k in kept) and len(set(kept)) == len(kept)

    # Every sidecar is a valid pair record and agrees with the Parquet row and the .txt.
    validator = jsonschema.Draft202012Validator(load_schema("pair"))
    by_key = {p["key"]: p for p in pairs}
    for sample in samples:
        sidecar = json.loads(sample["json"])
        validator.validate(sidecar)
        assert sidecar == by_key[sample["__key__"]]
        assert sample["txt"].decode("utf-8") == sidecar["caption"]
        assert sample["jpg"][:2] == b"\xff\xd8"
    for row in figures:
        jsonschema.Draft202012Validator(load_schema("figure")).validate(row)
    for row in articles:
        jsonschema.Draft202012Validator(load_schema("article_row")).validate(row)

    # Dedupe invariants.
    status = {f["key"]: f["status"] for f in figures}
    for f in figures:
        if f["status"] in ("duplicate", "near_duplicate"):
            assert status.get(f["duplicate_of"]) == "kept", f
    if near_threshold is not None:
        kept_hashes = [(f["key"], int(f["phash"], 16)) for f in figures if f["status"] == "kept"]
        for (ka, a), (kb, b) in itertools.combinations(kept_hashes, 2):
            assert bin(a ^ b).count("1") > near_threshold, (ka, kb)

    # The distributed dedupe decides exactly as the one-process dedupe.dedupe does.
    if near_threshold is not None:
        candidates = [f for f in figures if f["status"] in ("kept", "duplicate", "near_duplicate")]
        items = [dedupe.item_of(f) for f in candidates]
        expected = dedupe.dedupe(items, near_threshold)
        assert {f["key"]: (f["status"], f["duplicate_of"]) for f in candidates} == expected

    # No article in two splits; every figure of an article that is kept is in its split.
    splits = defaultdict(set)
    for p in pairs:
        splits[p["pmcid"]].add(p["split"])
        assert p["shard"].startswith(p["split"] + "-")
    assert all(len(s) == 1 for s in splits.values())
    return {
        "stats": stats,
        "articles": articles,
        "figures": figures,
        "pairs": pairs,
        "samples": samples,
    }


def published_files(out: Path, tops=PUBLISHED) -> dict[str, bytes]:
    """Relative path -> bytes of every published file under the given top folders."""
    out = Path(out)
    return {
        str(p.relative_to(out)): p.read_bytes()
        for top in tops
        for p in sorted((out / top).rglob("*"))
        if p.is_file()
    }


def assert_same_output(a: Path, b: Path, tops=PUBLISHED) -> None:
    """Byte-identical published files. (The articles table also records bytes_read, which
    retries after network faults legitimately change: pass tops to leave it out.)"""
    files_a, files_b = published_files(a, tops), published_files(b, tops)
    assert sorted(files_a) == sorted(files_b)
    different = [name for name in files_a if files_a[name] != files_b[name]]
    assert not different, f"not byte-identical: {different}"
