"""The trainer's data path: shard discovery, corrupt samples, resumable training streams."""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections import Counter

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub

torch = pytest.importorskip("torch")
from helpers.torch_threads import one_torch_thread  # noqa: E402, F401

wds = pytest.importorskip("webdataset")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pmc_pipeline.outputs import Output  # noqa: E402
from pmc_pipeline.train.data import (  # noqa: E402
    REPEATED_IN_BATCH,
    SplitSamples,
    StreamPosition,
    TrainStreams,
    make_loader,
)
from pmc_pipeline.train.decode import SkipSample, decode_sample  # noqa: E402
from pmc_pipeline.train.plan import EpochPlan, step_multiple  # noqa: E402
from pmc_pipeline.train.reader import (  # noqa: E402
    count_pairs,
    iter_captions,
    read_shard,
    shard_paths,
    shard_sizes,
)
from pmc_pipeline.train.synthetic import (  # noqa: E402
    jpeg_bytes,
    synthetic_pairs,
    write_shard,
    write_synthetic_build,
)
from pmc_pipeline.train.tokenizer import build_text_tower, load_tokenizer  # noqa: E402

TEXT_CFG = {"vocab_size": 300, "context_length": 32, "width": 16, "heads": 2, "layers": 1}


def _transform(image):
    return torch.from_numpy(np.asarray(image.resize((8, 8)), dtype="float32"))


@pytest.fixture(scope="module")
def tower(tmp_path_factory):
    path = tmp_path_factory.mktemp("tower")
    captions = [c for _, _, c in synthetic_pairs(200, seed=0)]
    build_text_tower(path, captions, TEXT_CFG)
    return path


def _corrupt_build(root):
    """A train split: one shard with 12 good samples among 6 bad ones, and a truncated shard."""
    good = list(synthetic_pairs(12, seed=3, image_size=32))
    path = root / "webdataset/train/train-000000.tar"
    path.parent.mkdir(parents=True)
    huge = io.BytesIO()
    Image.new("L", (5000, 4000)).save(huge, format="JPEG")  # 20 Mpx: over the pixel limit
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    bad = [
        {"__key__": "PMC1v1_f001", "jpg": good[0][1][:200], "txt": b"truncated jpeg"},
        {"__key__": "PMC1v1_f002", "jpg": png.getvalue(), "txt": b"a png named jpg"},
        {"__key__": "PMC1v1_f003", "jpg": good[1][1]},  # no caption
        {"__key__": "PMC1v1_f004", "jpg": good[2][1], "txt": b"   "},  # empty caption
        {"__key__": "PMC1v1_f005", "txt": b"caption without an image"},
        {"__key__": "PMC1v1_f006", "jpg": huge.getvalue(), "txt": b"a decompression bomb"},
    ]
    with wds.TarWriter(str(path)) as writer:
        for i, (key, jpeg, caption) in enumerate(good):
            writer.write({"__key__": key, "jpg": jpeg, "txt": caption.encode()})
            if i % 2 == 0 and bad:
                writer.write(bad.pop(0))
    truncated = root / "webdataset/train/train-000001.tar"
    write_shard(truncated, synthetic_pairs(5, seed=4, image_size=32))
    with tarfile.open(truncated) as tar:
        second_jpeg = [m for m in tar.getmembers() if m.name.endswith(".jpg")][1]
    cut = second_jpeg.offset_data + 100  # a download that stopped inside an image
    truncated.write_bytes(truncated.read_bytes()[:cut])
    return {key for key, _, _ in good}


EXPECTED_SKIPS = {
    "bad_image": 2,
    "missing_caption": 1,
    "empty_caption": 1,
    "missing_image": 1,
    "image_too_large": 1,
    "unreadable_shard": 1,
}


def test_corrupt_samples_are_skipped_and_counted(tmp_path, tower):
    good_keys = _corrupt_build(tmp_path)
    dataset = SplitSamples(
        str(tmp_path),
        shard_paths(str(tmp_path), "train"),
        transform=_transform,
        tokenizer=load_tokenizer(tower, 32),
        batch_size=4,
    )
    keys, skipped = [], Counter()
    for batch in make_loader(dataset, workers=0, seed=0, pin_memory=False):
        keys += batch.keys
        skipped.update(batch.skipped)
    assert good_keys <= set(keys)  # every good sample of the first shard
    assert not {k for k in keys if k.startswith("PMC1v1_")}  # and none of the bad ones
    assert dict(skipped) == EXPECTED_SKIPS


def test_training_stream_skips_corrupt_samples_and_reports_them(tmp_path, tower):
    _corrupt_build(tmp_path)
    plan = EpochPlan.build(shard_sizes(str(tmp_path), "train"), streams=1, micro_batch=4)
    dataset = _streams(tmp_path, tower, plan=plan, transform=_transform, shuffle_buffer=50)
    skipped, keys = Counter(), set()
    for batch, _ in zip(make_loader(dataset, 0, 0, False), range(30), strict=False):
        skipped.update(batch.skipped)
        keys |= set(batch.keys)
        assert len(set(batch.keys)) == len(batch) == 4
    assert not {k for k in keys if k.startswith("PMC1v1_")}
    # 30 batches: many epochs. Each epoch's share has 7 corrupt samples of 19, too many for
    # its batches: the stream reads its share again, and skips the pairs already in the batch.
    assert set(skipped) == set(EXPECTED_SKIPS) | {REPEATED_IN_BATCH}


def test_oversize_member_is_not_read(tmp_path):
    path = tmp_path / "webdataset/train/train-000000.tar"
    write_shard(path, synthetic_pairs(2, seed=0, image_size=32))
    samples = list(read_shard(Output(str(tmp_path)), "webdataset/train/train-000000.tar", 200))
    assert len(samples) == 2
    assert all(s["__skip__"] == "oversize_member" and "jpg" not in s for s in samples)
    assert all(s["txt"] for s in samples)  # the small caption members were read


def test_decode_refuses_a_huge_image_before_decoding_it():
    huge = io.BytesIO()
    Image.new("L", (5000, 4000)).save(huge, format="JPEG")
    with pytest.raises(SkipSample) as info:
        decode_sample({"jpg": huge.getvalue(), "txt": b"x"}, max_pixels=4096 * 4096)
    assert info.value.reason == "image_too_large"
    image, caption = decode_sample({"jpg": jpeg_bytes(Image.new("RGB", (9, 7))), "txt": b" a "})
    assert image.size == (9, 7) and image.mode == "RGB" and caption == "a"


def _plan(build, streams=1, micro_batch=5, multiple=1, seed=0):
    return EpochPlan.build(shard_sizes(str(build), "train"), streams, micro_batch, multiple, seed)


def _as_tensor(image):
    return torch.from_numpy(np.asarray(image, dtype="float32"))


def _streams(
    build,
    tower,
    start=None,
    seed=0,
    stream_count=1,
    rank=0,
    plan=None,
    transform=_as_tensor,
    shuffle_buffer=7,
):
    return TrainStreams(
        str(build),
        plan or _plan(build, seed=seed),
        transform=transform,
        tokenizer_dir=str(tower),
        context_length=32,
        rank=rank,
        num_streams=stream_count,
        shuffle_buffer=shuffle_buffer,
        start=start,
    )


def _take(dataset, n):
    it = iter(make_loader(dataset, 0, 0, False))
    return [next(it) for _ in range(n)]


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    write_synthetic_build(root, {"train": 23, "val": 4}, shard_size=8, image_size=16)
    return root


def test_stream_resumes_exactly_at_a_saved_position(small_build, tower):
    full = _take(_streams(small_build, tower), 10)  # 4 batches of 5 per epoch of 23 pairs
    assert [b.position.epoch for b in full] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    for stop in (3, 5):  # at an epoch's end, and inside an epoch
        resumed = _take(_streams(small_build, tower, start={0: full[stop].position}), 4)
        for a, b in zip(full[stop + 1 :], resumed, strict=False):
            assert a.keys == b.keys
            assert a.position == b.position
            assert torch.equal(a.images, b.images) and torch.equal(a.texts, b.texts)
    assert full[5].position.unit >= 1  # the positions crossed unit (shard) boundaries


def test_streams_are_shuffled_and_seeded(small_build, tower):
    keys = [k for b in _take(_streams(small_build, tower), 4) for k in b.keys]
    again = [k for b in _take(_streams(small_build, tower), 4) for k in b.keys]
    other_seed = [k for b in _take(_streams(small_build, tower, seed=1), 4) for k in b.keys]
    assert keys == again
    assert keys != other_seed
    assert keys != sorted(keys)


def test_a_stream_is_the_same_whichever_rank_runs_it(small_build, tower):
    # rank 1 of 1-stream ranks runs global stream 1, as worker 1 of a 2-stream rank 0 does
    plan = _plan(small_build, streams=2)
    on_rank_1 = _take(_streams(small_build, tower, rank=1, plan=plan), 2)
    dataset = _streams(small_build, tower, stream_count=2, plan=plan)
    it = iter(make_loader(dataset, 2, 0, False))
    batches = [next(it) for _ in range(4)]
    from_worker_1 = [b for b in batches if b.stream == 1]
    assert [b.keys for b in from_worker_1] == [b.keys for b in on_rank_1]


def test_shards_counts_and_captions(tmp_path):
    stats = write_synthetic_build(tmp_path, {"train": 10, "val": 3}, shard_size=4, image_size=16)
    (tmp_path / "webdataset/train/train-000009.tar.tmp").write_bytes(b"half written")
    assert shard_paths(str(tmp_path), "train") == stats["shards"]["train"]
    assert shard_paths(str(tmp_path), "test") == []
    assert count_pairs(str(tmp_path), "val") == 3
    (tmp_path / "stats.json").unlink()  # without stats.json the shards are counted
    assert count_pairs(str(tmp_path), "train") == 10
    captions = list(iter_captions(str(tmp_path), "train"))
    assert len(captions) == 10 and all(c.startswith("A ") for c in captions)
    assert len(list(iter_captions(str(tmp_path), "train", limit=3))) == 3
    with pytest.raises(ValueError):
        shard_paths(str(tmp_path), "dev")


def test_captions_come_from_parquet_when_the_build_has_it(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_synthetic_build(tmp_path, {"train": 4}, shard_size=4, image_size=16)
    target = tmp_path / "parquet/pairs/train/train-000000.parquet"
    target.parent.mkdir(parents=True)
    pq.write_table(pa.table({"key": ["a", "b"], "caption": ["from parquet", "second"]}), target)
    assert list(iter_captions(str(tmp_path), "train")) == ["from parquet", "second"]


def test_stats_json_count_is_used_when_present(tmp_path):
    write_synthetic_build(tmp_path, {"train": 4}, shard_size=4, image_size=16)
    (tmp_path / "stats.json").write_text(json.dumps({"pairs_per_split": {"train": 1234}}))
    assert count_pairs(str(tmp_path), "train") == 1234
    assert StreamPosition(2, 3, 1, 4).astuple() == (2, 3, 1, 4)


def test_a_build_on_s3_is_read_like_a_local_one(tmp_path, tower, monkeypatch):
    pytest.importorskip("moto")
    from helpers.servers import serve_s3

    local = tmp_path / "build"
    write_synthetic_build(local, {"train": 12, "val": 5}, shard_size=5, image_size=16)
    with serve_s3(local, bucket="builds") as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        remote = "s3://builds"
        assert shard_paths(remote, "train") == shard_paths(str(local), "train")
        assert count_pairs(remote, "val") == 5
        assert list(iter_captions(remote, "train")) == list(iter_captions(str(local), "train"))
        dataset = SplitSamples(
            remote,
            shard_paths(remote, "val"),
            transform=_transform,
            tokenizer=load_tokenizer(tower, 32),
            batch_size=4,
        )
        batches = list(make_loader(dataset, workers=0, seed=0, pin_memory=False))
        assert sum(len(b) for b in batches) == 5 and not any(b.skipped for b in batches)
        streams = _take(_streams(remote, tower), 3)
        assert [b.keys for b in streams] == [b.keys for b in _take(_streams(local, tower), 3)]


def test_shard_sizes_come_from_sizes_json_or_are_counted(tmp_path):
    write_synthetic_build(tmp_path, {"train": 10}, shard_size=4, image_size=16)
    expected = {f"webdataset/train/train-00000{i}.tar": n for i, n in enumerate((4, 4, 2))}
    assert shard_sizes(str(tmp_path), "train") == expected
    sizes = tmp_path / "webdataset/train/sizes.json"
    sizes.write_text(json.dumps({"train-000000.tar": 4, "train-000001.tar": 99}))
    # sizes.json is what the build says; a shard it does not list is counted
    assert shard_sizes(str(tmp_path), "train") == expected | {
        "webdataset/train/train-000001.tar": 99
    }
    sizes.unlink()
    assert shard_sizes(str(tmp_path), "train") == expected


def _steps(plan, dataset, ranks, workers, accum, n):
    """The keys of each optimizer step's micro-batches, in the order torchrun ranks and their
    DataLoaders take them: rank r's loader takes one batch from each of its streams in turn
    (r * workers + j % workers), and a step takes `accum` loader batches on every rank."""
    streams = [dataset.batches(s) for s in range(plan.streams)]
    taken = [0] * ranks
    steps = []
    for _ in range(n):
        step = []
        for rank in range(ranks):
            for _ in range(accum):
                stream = rank * workers + taken[rank] % workers
                taken[rank] += 1
                step.append(next(streams[stream]))
        steps.append(step)
    return steps


@pytest.mark.parametrize(
    "ranks, workers, accum, batch",
    [(1, 1, 1, 20), (2, 2, 2, 16), (1, 3, 2, 6), (2, 1, 3, 12)],
)
def test_no_optimizer_step_holds_a_pair_twice(small_build, tower, ranks, workers, accum, batch):
    """23 train pairs in shards of 8, 8 and 7: with the batch close to the split, every epoch
    boundary falls inside the stream of shards; across ranks, workers, accumulation steps and
    epochs, the micro-batches of one step always hold distinct pairs."""
    micro = batch // (ranks * accum)
    plan = _plan(small_build, ranks * workers, micro, step_multiple(accum, workers))
    assert plan.batches_per_epoch >= 1
    dataset = _streams(small_build, tower, stream_count=workers, plan=plan)
    steps = _steps(plan, dataset, ranks, workers, accum, n=3 * plan.batches_per_epoch + 2)
    epochs = set()
    for step in steps:
        keys = [k for micro_batch in step for k in micro_batch.keys]
        assert len(keys) == batch and len(set(keys)) == batch, keys
        assert len({b.position.epoch for b in step}) == 1  # one epoch per step
        epochs |= {b.position.epoch for b in step}
    assert len(epochs) >= 3


def test_an_epoch_deals_every_pair_to_one_stream():
    sizes = {"a.tar": 100, "b.tar": 100, "c.tar": 37}
    for streams in (1, 2, 3, 7):
        plan = EpochPlan.build(sizes, streams, micro_batch=8)
        for epoch in range(3):
            shares = plan.deal(epoch)
            assert len(shares) == streams and all(shares)
            samples = [
                (u.shard, i)
                for share in shares
                for u in share
                for i in range(u.part, sizes[u.shard], u.parts)
            ]
            assert sorted(samples) == sorted((s, i) for s, n in sizes.items() for i in range(n))
            smallest = min(sum(u.size for u in share) for share in shares)
            assert smallest == plan.smallest_share  # the same in every epoch
        assert plan.smallest_share >= 237 // streams * 0.8  # a fair share each
    assert EpochPlan.build(sizes, 3, 8).deal(0) != EpochPlan.build(sizes, 3, 8).deal(1)
    assert EpochPlan.build(sizes, 40, 8).batches_per_epoch == 0  # 5 pairs each: no batch of 8
    assert EpochPlan.build(sizes, 2, 8, multiple=3).batches_per_epoch % 3 == 0


def test_a_build_being_published_is_refused(tmp_path):
    """Shards beside _PUBLISHING.json mix two builds (or are half written): not read."""
    from pmc_pipeline.publish import PUBLISHING_FILE, NotPublished

    (tmp_path / "webdataset" / "train").mkdir(parents=True)
    (tmp_path / PUBLISHING_FILE).write_text("{}")
    with pytest.raises(NotPublished, match="being published"):
        shard_paths(str(tmp_path), "train")
