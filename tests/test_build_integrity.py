"""A build never publishes a wrong dataset: each case of the integrity issue, reproduced on a
small synthetic mirror, ends in a correct output or a one-line error naming the problem.

- re-running assemble with other shard sizes or splits leaves nothing stale, and the
  identity in stats.json is counted from the files on disk;
- a kill during publishing leaves no stats.json, and readers say so;
- staging is bound to the extract options that shaped it;
- damaged or missing staging is refused, naming the chunk, and extract redoes it;
- an extract that did not finish is not assembled.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers.build_checks import assert_same_output, check_build, read_table
from helpers.paths import PROJECT_ROOT

from beam_jobs import build_dataset
from pmc_pipeline import publish
from pmc_pipeline.mirror import write_mirror
from pmc_pipeline.outputs import Output

pytestmark = pytest.mark.slow

SMALL = {"pdf_scale": 0.02, "supplement_scale": 0.1, "workers": 1}
FAST = ["--chunk-size", "6", "--split", "train=0.6,val=0.2,test=0.2"]


def build(root, out, *extra) -> int:
    return build_dataset.run(["--root", str(root), "--output", str(out), *FAST, *extra])


def kill_build_when(root, out, done, *extra) -> None:
    """Run the build in a process of its own and kill it (SIGKILL, its whole group) as soon
    as done() holds, or after two minutes."""
    cmd = [sys.executable, "-m", "beam_jobs.build_dataset", "--root", str(root)]
    cmd += ["--output", str(out), *FAST, *extra]
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, start_new_session=True, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while not done() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def published_files(out: Path) -> list[str]:
    return sorted(
        str(p.relative_to(out))
        for top in ("webdataset", "parquet")
        for p in (out / top).rglob("*")
        if p.is_file()
    )


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("integrity") / "mirror"
    write_mirror(root, "cloud", 24, 5, **SMALL)
    return root


@pytest.fixture(scope="module")
def built(mirror, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built") / "out"
    assert build(mirror, out, "--shard-size", "10") == 0
    return out


@pytest.fixture
def out(built, tmp_path) -> Path:
    """A private copy of the shared build."""
    copy = tmp_path / "out"
    shutil.copytree(built, copy)
    return copy


def test_reassembling_replaces_the_whole_publication(mirror, out, capsys):
    before = published_files(out)
    assert len([f for f in before if f.endswith(".tar")]) > 3
    # Fewer, larger shards: the small ones must not stay beside them.
    assert build(mirror, out, "--phase", "assemble", "--shard-size", "2000") == 0
    stats = check_build(out)["stats"]
    assert sum(len(v) for v in stats["shards"].values()) == 3  # one shard per split
    assert [f for f in published_files(out) if f.endswith(".tar")] == [
        f"webdataset/{s}/{s}-000000.tar" for s in ("test", "train", "val")
    ]
    # A new split: no val/ or test/ left for a trainer's glob to mix into training.
    assert build(mirror, out, "--phase", "assemble", "--split", "train=1.0") == 0
    got = check_build(out)
    assert sorted(p.name for p in (out / "webdataset").iterdir() if p.is_dir()) == ["train"]
    assert sorted(p.name for p in (out / "parquet" / "pairs").iterdir()) == ["train"]
    assert got["stats"]["pairs_per_split"].keys() == {"train"}
    assert not (out / publish.PUBLISHING_FILE).exists()
    assert not (out / publish.WORK_DIR).exists()
    capsys.readouterr()


def test_the_identity_is_counted_from_the_files_on_disk(out):
    """publish.verify finds a stale file, a missing one and a miscounted shard."""
    written = json.loads((out / "stats.json").read_text())
    shards = [
        {"split": split, "shard": shard, "samples": n, "tar_bytes": 0}
        for split, names in written["shards"].items()
        for shard in names
        for n in [
            json.loads((out / "webdataset" / split / "sizes.json").read_text())[
                shard.rsplit("/", 1)[1]
            ]
        ]
    ]
    parts = [
        {"kind": kind, "path": str(p.relative_to(out)), "rows": len(read_table(out, kind))}
        for kind in ("figures", "articles")
        for p in (out / "parquet" / kind).glob("*.parquet")
    ]
    for split in written["shards"]:
        (out / "webdataset" / split / "sizes.json").unlink()  # written after verify
    (out / "webdataset" / "README.md").unlink()  # so is the shards' card
    assert publish.verify(Output(str(out)), shards, parts).problems == []

    stale = out / "webdataset" / "train" / "train-000999.tar"
    shutil.copy(out / shards[0]["shard"], stale)
    shards[1] = {**shards[1], "samples": shards[1]["samples"] + 1}
    gone = out / publish.shards.pairs_path_of(shards[2]["shard"])
    gone.unlink()
    problems = publish.verify(Output(str(out)), shards, parts).problems
    assert any("train-000999.tar is on disk but was not written by this run" in p for p in problems)
    assert any(f"{shards[1]['shard']} holds" in p for p in problems)
    assert any(
        f"{gone.relative_to(out)} was written by this run but is not on disk" in p for p in problems
    )


def test_a_kill_while_publishing_leaves_no_stats_and_readers_say_so(mirror, out):
    publishing = out / publish.PUBLISHING_FILE
    kill_build_when(mirror, out, publishing.exists, "--phase", "assemble", "--shard-size", "3")
    assert (out / publish.PUBLISHING_FILE).exists()
    assert not (out / "stats.json").exists()  # nothing vouches for a mix of two builds
    with pytest.raises(publish.NotPublished, match="being published, or its publication was"):
        publish.check_complete(Output(str(out)))
    done = subprocess.run(
        [sys.executable, "-m", "pmc_pipeline.cli", "report", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "run assemble again" in done.stderr
    assert build(mirror, out, "--phase", "assemble", "--shard-size", "3") == 0  # the lock was stale
    check_build(out)


def test_staging_is_bound_to_the_extract_options(mirror, out, capsys):
    # Other extract options than staging's: refused, naming the option, nothing touched.
    before = (out / "stats.json").read_bytes()
    assert build(mirror, out, "--licenses", "CC BY") == 1
    err = capsys.readouterr().err
    assert "other extract settings (licenses: None -> ['CC BY'])" in err
    assert "--force-reextract" in err and len(err.strip().splitlines()) == 1
    assert build(mirror, out, "--phase", "assemble", "--min-side", "300") == 1
    assert "min_side: 128 -> 300" in capsys.readouterr().err
    assert (out / "stats.json").read_bytes() == before

    # --force-reextract extracts again with the new options, and stats.json says which.
    assert build(mirror, out, "--licenses", "CC BY", "--force-reextract") == 0
    got = check_build(out)
    assert got["stats"]["options"]["filters"]["licenses"] == ["CC BY"]
    assert {p["license"] for p in got["pairs"]} == {"CC BY"}
    # And back: staging again follows the options, nothing left of the allowlist.
    assert build(mirror, out, "--force-reextract") == 0
    got = check_build(out)
    assert got["stats"]["options"]["filters"]["licenses"] is None
    assert not [a for a in got["articles"] if (a["reason"] or "").startswith("license")]


def test_damaged_staging_is_refused_naming_the_chunk(mirror, out, built, capsys):
    chunks = sorted(p.parent for p in (out / "staging").glob("g*/_SUCCESS.json"))
    # Garbled JPEG bytes of a published sample: found when the shard writer reads them.
    published = {p["key"] for p in read_table(out, "pairs")}
    rows = pq.read_table(chunks[0] / "figures.parquet").to_pylist()
    victim = next(r for r in rows if r["key"] in published)
    images = chunks[0] / "images.bin"
    data = bytearray(images.read_bytes())
    data[victim["jpeg_offset"] + victim["image_bytes"] // 2] ^= 0xFF
    images.write_bytes(bytes(data))
    assert build(mirror, out, "--phase", "assemble", "--shard-size", "10") == 1
    err = capsys.readouterr().err
    assert f"staging chunk {chunks[0].name}: the JPEG at" in err and "CRC-32" in err
    assert not (out / "stats.json").exists()

    # A broken Parquet file: refused by its checksum, naming the chunk (not an Arrow error).
    figures = chunks[1] / "figures.parquet"
    figures.write_bytes(figures.read_bytes()[:100])
    assert build(mirror, out, "--phase", "assemble") == 1
    assert f"staging chunk {chunks[1].name}: figures.parquet does not match" in (
        capsys.readouterr().err
    )

    # A lost marker: its articles are not silently left out of the publication...
    (chunks[2] / "_SUCCESS.json").unlink()
    for chunk in chunks[:2]:
        shutil.rmtree(chunk)  # what the message says to do with a damaged chunk
    assert build(mirror, out, "--phase", "assemble") == 1
    assert f"staging chunk {chunks[0].name} (and 2 more) is listed" in capsys.readouterr().err
    # ...and extract redoes them: the same publication as an untouched build.
    assert build(mirror, out, "--shard-size", "10") == 0
    check_build(out)
    assert_same_output(built, out, tops=("webdataset", "parquet"))


def test_an_unfinished_extract_is_not_assembled(mirror, tmp_path, capsys):
    out = tmp_path / "out"

    def two_chunks_staged() -> bool:
        return len(list(out.glob("staging/g*/_SUCCESS.json"))) >= 2

    kill_build_when(mirror, out, two_chunks_staged, "--chunk-size", "2", "--fetch-threads", "1")
    assert build(mirror, out, "--phase", "assemble") == 1
    assert "extract generation 1 did not finish" in capsys.readouterr().err
    assert build(mirror, out, "--chunk-size", "2") == 0
    check_build(out)


def test_a_listing_that_cannot_be_read_whole_fails_the_build(tmp_path, capsys):
    """A damaged file list would drop articles (and their retraction flags) silently: the
    build stops instead, naming the file, and publishes nothing."""
    mirror, out = tmp_path / "mirror", tmp_path / "out"
    write_mirror(mirror, "legacy", 8, 5, **SMALL)
    file_list = mirror / "oa_file_list.csv"
    lines = file_list.read_text().splitlines(keepends=True)
    file_list.write_text("".join(lines[:3]) + lines[3].split(",")[0] + "\n" + "".join(lines[4:]))
    assert build(mirror, out, "--layout", "legacy") == 1
    err = capsys.readouterr().err.strip()
    assert "cannot list" in err and "oa_file_list.csv" in err, err
    assert len(err.splitlines()) == 1
    assert not (out / "stats.json").exists()
