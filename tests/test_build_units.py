"""Unit tests of the build's library pieces: staging (resume rule), assemble decisions,
shard writing and the accounting identity, on rows built by hand."""

from __future__ import annotations

import io
import json
import tarfile

import pyarrow.parquet as pq
import pytest
import webdataset as wds

from pmc_pipeline import assemble, manifest, shards, staging
from pmc_pipeline.model import ArticleRef, ArticleStatus, FigureStatus
from pmc_pipeline.outputs import Output


def ref(key="PMC1", version=1, etag="e1", updated="2026-01-01"):
    return ArticleRef(
        pmcid=key,
        version=version,
        layout="cloud",
        location=f"{key}.{version}/",
        etag=etag,
        last_updated=updated,
    )


# --- staging ------------------------------------------------------------------------------


def test_resume_rule():
    done = staging.DoneRecord(ArticleStatus.OK, "e1", "2026-01-01", 1)
    failed = staging.DoneRecord(ArticleStatus.FETCH_FAILED, "e1", "2026-01-01", 1)
    assert staging.needs_extract(ref(), None, retry_failed=False)
    assert not staging.needs_extract(ref(), done, retry_failed=False)
    assert not staging.needs_extract(ref(), done, retry_failed=True)  # ok stays done
    assert not staging.needs_extract(ref(), failed, retry_failed=False)
    assert staging.needs_extract(ref(), failed, retry_failed=True)
    # A changed inventory entry (daily update) is extracted again.
    assert staging.needs_extract(ref(etag="e2"), done, retry_failed=False)
    # A bug's record ('internal_error: ...') is redone by --retry-failed, like a failed fetch.
    bug = staging.DoneRecord(ArticleStatus.PARSE_FAILED, "e1", "2026-01-01", 1, "internal_error: X")
    assert not staging.needs_extract(ref(), bug, retry_failed=False)
    assert staging.needs_extract(ref(), bug, retry_failed=True)
    parse = staging.DoneRecord(ArticleStatus.PARSE_FAILED, "e1", "2026-01-01", 1, "parse: bad")
    assert not staging.needs_extract(ref(), parse, retry_failed=True)  # the input's fault


def test_ledger_names_the_options_that_differ():
    from pmc_pipeline import extract, ledger
    from pmc_pipeline.filters import FilterOptions
    from pmc_pipeline.images import IMAGE_VERSION

    old = extract.shaped_by(extract.ExtractOptions())
    new = extract.shaped_by(
        extract.ExtractOptions(filters=FilterOptions(licenses={"cc-by"}), max_side=512)
    )
    assert ledger.differences(old, new) == [
        "licenses: None -> ['CC BY']",
        "max_side: 1024 -> 512",
    ]
    bumped = {**old, "versions": {**old["versions"], "images": 99}}
    assert ledger.differences(old, bumped) == [f"versions.images: {IMAGE_VERSION} -> 99"]
    assert ledger.fingerprint(old) == ledger.fingerprint(dict(reversed(list(old.items()))))
    generations = {1: ledger.Generation(1, ledger.fingerprint(old), old, ledger.COMPLETE)}
    assert ledger.check_options(generations, old, force=False) == frozenset()
    with pytest.raises(staging.StagingError, match="max_side: 1024 -> 512"):
        ledger.check_options(generations, new, force=False)
    assert ledger.check_options(generations, new, force=True) == {1}


def test_latest_done_takes_newest_generation():
    rows = [
        {
            "article_key": "PMC1v1",
            "status": "fetch_failed",
            "etag": "e",
            "last_updated": None,
            "generation": 1,
        },
        {
            "article_key": "PMC1v1",
            "status": "ok",
            "etag": "e",
            "last_updated": None,
            "generation": 2,
        },
    ]
    assert staging.latest_done(reversed(rows))["PMC1v1"].status == "ok"
    assert staging.latest_done(rows)["PMC1v1"].generation == 2


def test_chunk_ids_depend_on_keys_and_count_only():
    keys = [f"PMC{i}v1" for i in range(500)]
    n = staging.chunk_count(len(keys), 100)
    assert n == 5
    a = {k: staging.chunk_id(3, k, n) for k in keys}
    b = {k: staging.chunk_id(3, k, n) for k in reversed(keys)}
    assert a == b
    assert len(set(a.values())) == 5
    assert all(c.startswith("g00003-") for c in a.values())
    assert staging.generation_of("g00003-000004") == 3
    assert staging.stable_hash("PMC1v1") == staging.stable_hash(
        "PMC1v1"
    )  # no PYTHONHASHSEED effect


def test_incomplete_chunks_are_ignored_and_removed(tmp_path):
    out = Output(str(tmp_path))
    out.write_bytes("staging/g00001-000000/articles.parquet", b"half")
    out.write_json("staging/g00001-000001/_SUCCESS.json", {"chunk": "g00001-000001"})
    assert staging.complete_chunks(out) == ["g00001-000001"]
    assert staging.next_generation(out) == 2
    assert staging.remove_incomplete_chunks(out) == ["g00001-000000"]
    assert not out.exists("staging/g00001-000000")
    assert out.exists("staging/g00001-000001/_SUCCESS.json")


def test_chunk_jpegs_sit_beside_the_rows_and_read_back_by_range(tmp_path):
    from types import SimpleNamespace

    out = Output(str(tmp_path))
    jpegs = {"PMC2v1_f001": b"\xff\xd8two", "PMC1v1_f002": b"\xff\xd8one-b", "PMC1v1_f001": b""}
    results = [  # arrival order is not key order; one figure has no image
        SimpleNamespace(
            article={"article_key": pmcid + ".1", "status": "ok", "bytes_read": 10},
            figures=[
                {"key": key, "article_key": pmcid + ".1", "status": "kept", "jpeg": jpegs[key]}
                for key in sorted(jpegs)
                if key.startswith(pmcid)
            ]
            + [{"key": pmcid + "v1_f009", "article_key": pmcid + ".1", "status": "no_image"}],
        )
        for pmcid in ("PMC2", "PMC1")
    ]
    marker = staging.write_chunk(out, "g00001-000000", results)
    assert marker["figures"] == 5 and marker["articles"] == 2
    rows = staging.read_chunk_rows(out, "g00001-000000", staging.FIGURES_FILE)
    assert [r["key"] for r in rows] == sorted(r["key"] for r in rows)
    assert "jpeg" not in rows[0] and {r["chunk"] for r in rows} == {"g00001-000000"}
    by_key = {r["key"]: r for r in rows}
    assert by_key["PMC1v1_f009"]["jpeg_offset"] is None
    # In key order, one after another: b"" (PMC1 f001), then PMC1 f002, then PMC2 f001.
    blob = (tmp_path / "staging/g00001-000000/images.bin").read_bytes()
    assert blob == jpegs["PMC1v1_f001"] + jpegs["PMC1v1_f002"] + jpegs["PMC2v1_f001"]
    spans = [
        (by_key[k]["jpeg_offset"], len(jpegs[k]), by_key[k]["jpeg_crc32"])
        for k in ("PMC2v1_f001", "PMC1v1_f002")
    ]
    assert staging.read_jpegs(out, "g00001-000000", spans) == [
        jpegs["PMC2v1_f001"],
        jpegs["PMC1v1_f002"],
    ]
    with pytest.raises(staging.StagingError, match="g00001-000000: JPEG span .* outside"):
        staging.read_jpegs(out, "g00001-000000", [(len(blob) - 2, 5, 0)])
    # Every file is checked against its marker: a changed byte is refused, naming the chunk.
    (tmp_path / "staging/g00001-000000/images.bin").write_bytes(blob[:-1] + b"X")
    with pytest.raises(staging.StagingError, match="g00001-000000: the JPEG at .* CRC-32"):
        staging.read_jpegs(out, "g00001-000000", spans[:1])
    figures = tmp_path / "staging/g00001-000000/figures.parquet"
    figures.write_bytes(figures.read_bytes()[:-3] + b"PAR")
    with pytest.raises(staging.StagingError, match="figures.parquet does not match the checksum"):
        staging.read_chunk_rows(out, "g00001-000000", staging.FIGURES_FILE)
    (tmp_path / "staging/g00001-000000/_SUCCESS.json").unlink()
    with pytest.raises(staging.StagingError, match="g00001-000000 has no marker"):
        staging.read_chunk_rows(out, "g00001-000000", staging.ARTICLES_FILE)
    # The results given are not changed: a retried write gives the same files.
    assert results[1].figures[0]["jpeg"] == jpegs["PMC1v1_f001"]


# --- assemble -----------------------------------------------------------------------------


def article(key, pmcid, version, generation, status="ok"):
    return {
        "article_key": key,
        "pmcid": pmcid,
        "version": version,
        "generation": generation,
        "status": status,
        "reason": None,
    }


def test_newest_record_and_versions():
    recs = [article("PMC1v1", "PMC1", 1, 1, "fetch_failed"), article("PMC1v1", "PMC1", 1, 2)]
    assert assemble.newest_record(recs)["status"] == "ok"
    versions = [article("PMC1v2", "PMC1", 2, 1), article("PMC1v1", "PMC1", 1, 1)]
    assert [r["article_key"] for r in assemble.published_versions(versions, False)] == ["PMC1v2"]
    assert [r["article_key"] for r in assemble.published_versions(versions, True)] == [
        "PMC1v1",
        "PMC1v2",
    ]


def test_takedown_removes_article_and_its_figures():
    opts = assemble.AssembleOptions(
        takedown=assemble.load_takedown(["# retracted", "PMC7", "PMC8.2", ""])
    )
    a = assemble.finalize_article(article("PMC7v1", "PMC7", 1, 1), opts)
    assert (a["status"], a["reason"]) == (ArticleStatus.REMOVED, "takedown")
    assert a["split"] in ("train", "val", "test")
    assert assemble.finalize_article(article("PMC8v1", "PMC8", 1, 1), opts)["status"] == "ok"
    assert assemble.finalize_article(article("PMC8v2", "PMC8", 2, 1), opts)["status"] == "removed"
    figs = [
        {"key": "PMC7v1_f001", "generation": 1, "status": "kept", "reason": None, "jpeg_offset": 0},
        {"key": "PMC7v1_f001", "generation": 0, "status": "kept", "reason": None, "jpeg_offset": 0},
    ]
    rows = assemble.article_figures(a, figs)
    assert len(rows) == 1  # only the published generation's rows
    assert rows[0]["status"] == FigureStatus.REMOVED and rows[0]["jpeg_offset"] is None


# --- shards -------------------------------------------------------------------------------


def pair(key, split="train"):
    """A complete pair record, valid against schemas/pair.schema.json."""
    from pmc_pipeline.records import PAIR_FIELDS

    record = dict.fromkeys(PAIR_FIELDS)
    record.update(
        key=key,
        split=split,
        shard=f"{split}-000000",
        pmcid=key.split("v")[0],
        version=1,
        figure_index=1,
        kind="figure",
        caption=f"caption of {key}",
        caption_tokens=3,
        figure_types=["other"],
        figure_type_evidence={},
        compound=False,
        panels=[],
        shared_caption=f"caption of {key}",
        placement="body",
        mentions=[],
        layout="cloud",
        location="x/",
    )
    return record


def test_shard_membership_is_a_function_of_key_and_count():
    keys = [f"PMC{i}v1_f001" for i in range(1000)]
    n = shards.shard_count(len(keys), 100)
    assert n == 10
    assert [shards.shard_index(k, n) for k in keys] == [shards.shard_index(k, n) for k in keys]
    sizes = [sum(1 for k in keys if shards.shard_index(k, n) == i) for i in range(n)]
    assert min(sizes) > 50 and max(sizes) < 150  # a hash spreads keys evenly enough


def test_write_shard_is_deterministic_and_readable(tmp_path):
    samples = [(pair(f"PMC{i}v1_f001"), b"\xff\xd8jpeg" + bytes([i])) for i in range(5)]
    a, b = Output(str(tmp_path / "a")), Output(str(tmp_path / "b"))
    summary = shards.write_shard(a, "train", 0, samples)
    shards.write_shard(b, "train", 0, list(reversed(samples)))
    tar_a = (tmp_path / "a" / "webdataset/train/train-000000.tar").read_bytes()
    assert tar_a == (tmp_path / "b" / "webdataset/train/train-000000.tar").read_bytes()
    assert summary == {
        "split": "train",
        "shard": "webdataset/train/train-000000.tar",
        "samples": 5,
        "pair_rows": 5,
        "bytes": summary["bytes"],
        "tar_bytes": len(tar_a),
    }
    with tarfile.open(fileobj=io.BytesIO(tar_a)) as tf:
        members = tf.getmembers()
        assert {m.mtime for m in members} == {0} and {m.uname for m in members} == {""}
        assert [m.name for m in members][:3] == [
            "PMC0v1_f001.jpg",
            "PMC0v1_f001.json",
            "PMC0v1_f001.txt",
        ]
    got = list(
        wds.WebDataset(str(tmp_path / "a/webdataset/train/train-000000.tar"), shardshuffle=False)
    )
    assert [s["__key__"] for s in got] == [f"PMC{i}v1_f001" for i in range(5)]
    assert json.loads(got[0]["json"])["key"] == "PMC0v1_f001"
    assert got[0]["txt"] == b"caption of PMC0v1_f001"
    table = pq.read_table(tmp_path / "a/parquet/pairs/train/train-000000.parquet")
    assert table.num_rows == 5 and table.column("key").to_pylist()[0] == "PMC0v1_f001"


# --- accounting ---------------------------------------------------------------------------


def stats_for(article_rows, figure_rows, shard_summaries, listed=None, seen=None):
    return manifest.build_stats(
        manifest.count_statuses(article_rows),
        manifest.count_statuses(figure_rows),
        shard_summaries,
        articles_listed=len(article_rows) if listed is None else listed,
        figures_seen=len(figure_rows) if seen is None else seen,
        bytes_read=0,
        options={},
    )


def test_identity_holds_and_breaks():
    arts = [{"status": "ok", "reason": None}, {"status": "excluded", "reason": "retracted"}]
    figs = [{"status": "kept", "reason": None}, {"status": "filtered", "reason": "min_side"}]
    good = [
        {
            "split": "train",
            "shard": "webdataset/train/train-000000.tar",
            "samples": 1,
            "pair_rows": 1,
            "bytes": 10,
        }
    ]
    stats = stats_for(arts, figs, good)
    assert stats["identity"] == {"holds": True, "problems": []}
    assert stats["pairs_per_split"] == {"train": 1}
    assert stats["articles"]["by_reason"] == {"excluded": {"retracted": 1}}
    assert not stats_for(arts, figs, good, listed=3)["identity"]["holds"]
    assert not stats_for(arts, figs, good, seen=1)["identity"]["holds"]
    lost = [{**good[0], "samples": 0}]
    problems = stats_for(arts, figs, lost)["identity"]["problems"]
    assert len(problems) == 1 and "samples in shards 0" in problems[0]
    assert "BROKEN" in manifest.summary(stats_for(arts, figs, lost))


@pytest.mark.parametrize(
    "reason,name", [("fetch: 503 after 5 tries", "fetch"), ("min_side", "min_side"), (None, None)]
)
def test_reason_names(reason, name):
    assert manifest.reason_name(reason) == name


def test_extract_progress_counts_the_articles_of_staged_chunks(tmp_path):
    from types import SimpleNamespace

    from beam_jobs.progress import ExtractProgress
    from pmc_pipeline import plan

    out = Output(str(tmp_path))
    chunks = tuple(plan.PlannedChunk(f"g00003-00000{i}", "p", i, 2) for i in range(3))
    the_plan = plan.Plan(3, listed=7, skipped=1, repeated=0, chunks=chunks)
    progress = ExtractProgress(out, the_plan, bar=False)
    assert progress.poll() == 0
    assert progress.status() == "extract: 0 of 6 articles (0.0%), 0.0 articles/s"
    two = [
        SimpleNamespace(
            article={"article_key": f"PMC{i}v1", "status": "ok", "bytes_read": 1}, figures=[]
        )
        for i in range(2)
    ]
    staging.write_chunk(out, "g00003-000001", two)
    staging.write_chunk(out, "g00002-000000", two)  # an earlier run's chunk: not counted
    assert progress.poll() == 2 and progress.poll() == 0
    assert progress.status().startswith("extract: 2 of 6 articles (33.3%), ")
    assert "left" in progress.status()
