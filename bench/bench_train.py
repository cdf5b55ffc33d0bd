"""The trainer against open_clip_train, and the loader's images/s per core.

    python -m bench train [--data OUTPUT] [--steps 40] [--batch-size 64] [--workers 1]
                          [--repeat 2]

1. Training samples/s of `pmc-pipeline train` and of open_clip_train (open_clip's own
   training program) on the same shards, the same `tiny` model config (same text tower,
   image size, precision fp32, no gradient checkpointing), the same batch and the same
   number of loader workers, interleaved in this run (best of --repeat). Each is timed
   from its own logs over the steps after the first logging interval (start-up and the
   first shuffle buffer fill excluded). open_clip_train runs twice per round: as it comes,
   and with OMP_NUM_THREADS set to the cores its workers leave, to show how much of the
   difference is thread contention.
2. Loader images/s on one core (torch threads = 1, no worker processes) for 224 px
   RandomResizedCrop training crops plus tokenized captions from the build's JPEGs: our
   resumable stream (per-sample seeded augmentation, corrupt-sample accounting) against the
   plain webdataset pipeline open_clip_train builds (decode, rename, map, batch); and where
   our loader's time goes, stage by stage.

Data: --data OUTPUT (a build), else sample/output when `make sample` has run, else a build
written to a temporary directory from the real PMC figure JPEGs in ../shared/fixtures (read
in place; nothing is copied into the repository), else from synthetic figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import PROJECT_ROOT, SHARED_FIXTURES, machine, table, write_section

SAMPLE_OUTPUT = PROJECT_ROOT / "sample" / "output"


def _env(**extra: str) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


# --- data ----------------------------------------------------------------------------------


def fixture_build(root: Path, n_pairs: int = 512, seed: int = 0) -> Path | None:
    """A one-split build whose images are the real PMC figure JPEGs of the shared fixtures
    (at most 1024 px, as the build publishes them), with synthetic captions."""
    from PIL import Image

    from pmc_pipeline.train.synthetic import jpeg_bytes, synthetic_pairs, write_shard

    sources = sorted((SHARED_FIXTURES / "images" / "pmc").glob("*/*.jpg"))
    if not sources:
        return None
    jpegs = []
    for path in sources:
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((1024, 1024))
            jpegs.append(jpeg_bytes(image, quality=90))
    rng = random.Random(seed)
    captions = [c for _, _, c in synthetic_pairs(n_pairs, seed)]
    samples = [(f"PMC{2000 + i}v1_f001", rng.choice(jpegs), captions[i]) for i in range(n_pairs)]
    for index, start in enumerate(range(0, n_pairs, 128)):
        write_shard(root / f"webdataset/train/train-{index:06d}.tar", samples[start : start + 128])
    (root / "stats.json").write_text(json.dumps({"pairs_per_split": {"train": n_pairs}}))
    return root


def pick_data(requested: str | None, tmp: Path) -> tuple[str, str]:
    """(OUTPUT, description) of the build to measure on."""
    from pmc_pipeline.train.synthetic import write_synthetic_build

    if requested:
        return requested, f"`{requested}`"
    if (SAMPLE_OUTPUT / "webdataset" / "train").is_dir():
        return str(SAMPLE_OUTPUT), "the sample build (`make sample`)"
    built = fixture_build(tmp / "fixture-build")
    if built is not None:
        return str(built), "512 pairs whose images are the real PMC figure JPEGs of the fixtures"
    write_synthetic_build(tmp / "synthetic", {"train": 512}, shard_size=128, image_size=512)
    return str(tmp / "synthetic"), "512 synthetic 512 px figures"


# --- trainer throughput ----------------------------------------------------------------------


def steady_rate(samples: list[float], seconds: list[float]) -> float:
    """Samples/s over the logging intervals after the first."""
    return sum(samples[1:]) / sum(seconds[1:])


def run_ours(data: str, out: Path, args) -> tuple[float, Path]:
    """Train with pmc-pipeline; returns (samples/s, run directory)."""
    cmd = [sys.executable, "-m", "pmc_pipeline.cli", "train", "--data", data]
    cmd += ["--output", str(out), "--model", "tiny", "--steps", str(args.steps)]
    cmd += ["--batch-size", str(args.batch_size), "--workers", str(args.workers)]
    cmd += ["--warmup", "5", "--precision", "fp32", "--no-grad-checkpointing", "--no-progress"]
    cmd += ["--log-every", str(args.log_every), "--save-every", str(args.steps)]
    subprocess.run(cmd, check=True, env=_env(), capture_output=True, text=True)
    from pmc_pipeline.train.logs import read_log

    records = read_log(out / "log.jsonl")
    samples = [args.log_every * args.batch_size for _ in records]
    seconds = [n / r["samples_per_s"] for n, r in zip(samples, records, strict=True)]
    return steady_rate(samples, seconds), out


def open_clip_spec(run_dir: Path, spec: Path, tower: Path) -> str:
    """An open_clip `local-dir:` spec of our run's model for open_clip_train. Its HF text
    tower needs weights on disk (open_clip_train loads them at creation), so a random
    initialisation of the same BERT is saved beside the tokenizer."""
    from transformers import BertConfig, BertModel

    from pmc_pipeline.train.run import load_run
    from pmc_pipeline.train.tokenizer import copy_tower_files

    run = load_run(run_dir)
    copy_tower_files(run.text_tower_dir, tower)
    copy_tower_files(run.text_tower_dir, spec)
    (spec / "config.json").unlink()  # the spec directory holds no model weights or config
    BertModel(BertConfig.from_pretrained(tower), add_pooling_layer=False).save_pretrained(tower)
    model_cfg = run.resolved_model_cfg()
    model_cfg["text_cfg"]["hf_model_name"] = model_cfg["text_cfg"]["hf_tokenizer_name"] = str(tower)
    (spec / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": model_cfg, "preprocess_cfg": {}})
    )
    return f"local-dir:{spec}"


_OPEN_CLIP_LOG = re.compile(r"Train Epoch: \d+ \[\s*(\d+)/\d+.*?Batch \(t\): ([0-9.]+)")


def run_open_clip_train(data: str, model: str, logs: Path, args, threads: int | None) -> float:
    """Train with open_clip_train (with `threads` OpenMP threads, or its default); returns
    samples/s."""
    from pmc_pipeline.train.reader import shard_paths

    shards = "::".join(str(Path(data) / p) for p in shard_paths(data, "train"))
    cmd = [sys.executable, "-m", "open_clip_train.main", "--train-data", shards]
    cmd += ["--train-num-samples", str(args.steps * args.batch_size), "--dataset-type"]
    cmd += ["webdataset", "--dataset-resampled", "--epochs", "1", "--model", model]
    cmd += ["--batch-size", str(args.batch_size), "--workers", str(args.workers)]
    cmd += ["--precision", "fp32", "--device", "cpu", "--lr", "5e-4", "--warmup", "5"]
    cmd += ["--wd", "0.2", "--beta1", "0.9", "--beta2", "0.98", "--eps", "1e-6"]
    cmd += ["--logs", str(logs), "--name", "bench", "--log-every-n-steps", str(args.log_every)]
    cmd += ["--save-frequency", "0", "--report-to", "", "--seed", "0"]
    env = _env(OMP_NUM_THREADS=str(threads)) if threads else _env()
    done = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    seen, seconds, samples, last = [], [], [], 0
    for match in _OPEN_CLIP_LOG.finditer(done.stdout + done.stderr):
        seen.append((int(match.group(1)), float(match.group(2))))
    for count, batch_time in seen[1:]:  # the first line is step 1: start-up only
        steps = (count - last) / args.batch_size
        samples.append(count - last)
        seconds.append(steps * batch_time)
        last = count
    return steady_rate(samples, seconds)


# --- loader ----------------------------------------------------------------------------------


def loader_rates(
    data: str, tower: Path, n_images: int, batch: int, repeat: int
) -> tuple[float, float]:
    """Images/s on one core: (our TrainStreams, open_clip_train's webdataset pipeline)."""
    import torch
    import webdataset as wds
    from open_clip.transform import PreprocessCfg, image_transform_v2

    from pmc_pipeline.train.data import TrainStreams, make_loader
    from pmc_pipeline.train.decode import decode_side
    from pmc_pipeline.train.plan import EpochPlan
    from pmc_pipeline.train.reader import shard_paths, shard_sizes
    from pmc_pipeline.train.tokenizer import load_tokenizer

    torch.set_num_threads(1)
    transform = image_transform_v2(PreprocessCfg(size=224), is_train=True)
    shards = shard_paths(data, "train")
    # As the trainer builds it: one stream, the recipe's crops (open_clip's RandomResizedCrop
    # over 0.9-1.0 of the area), JPEGs decoded at the smallest size those crops need.
    ours = TrainStreams(
        data,
        EpochPlan.build(shard_sizes(data, "train"), streams=1, micro_batch=batch),
        transform=transform,
        tokenizer_dir=str(tower),
        context_length=256,
        rank=0,
        num_streams=1,
        shuffle_buffer=256,
        min_side=decode_side(224, transform.transforms[0].scale[0]),
    )
    tokenizer = load_tokenizer(tower, 256)
    peer = (
        wds.WebDataset([str(Path(data) / s) for s in shards], resampled=True, shardshuffle=False)
        .shuffle(256)
        .decode("pilrgb")
        .rename(image="jpg;png;jpeg;webp", text="txt")
        .map_dict(image=transform, text=lambda text: tokenizer(text)[0])
        .to_tuple("image", "text")
        .batched(batch)
    )

    def rate(batches, size) -> float:
        it = iter(batches)
        next(it)  # the shuffle buffer fills here
        start, seen = time.perf_counter(), 0
        while seen < n_images:
            seen += size(next(it))
        return seen / (time.perf_counter() - start)

    # Interleaved repeats, best of each: a shared CPU's load comes and goes.
    ours_best = peer_best = 0.0
    for _ in range(repeat):
        ours_best = max(ours_best, rate(make_loader(ours, 0, 0, False), len))
        peer_best = max(peer_best, rate(peer, lambda b: len(b[0])))
    return ours_best, peer_best


def loader_stages(data: str, tower: Path, n_images: int, batch: int, repeat: int) -> list:
    """[(stage, ms per image)] of our loader on one core: each stage timed apart on the
    same samples (best of `repeat`)."""
    import itertools

    import torch
    from open_clip.transform import PreprocessCfg, image_transform_v2

    from pmc_pipeline.outputs import Output
    from pmc_pipeline.train.decode import LoaderTransform
    from pmc_pipeline.train.reader import read_shard, shard_paths
    from pmc_pipeline.train.tokenizer import load_tokenizer

    torch.set_num_threads(1)
    output, shards = Output(data), shard_paths(data, "train")
    pixels = LoaderTransform(image_transform_v2(PreprocessCfg(size=224), is_train=True))
    tokenizer = load_tokenizer(tower, 256)

    def read():
        samples = (s for relpath in itertools.cycle(shards) for s in read_shard(output, relpath))
        return [s for s in itertools.islice(samples, n_images)]

    samples = read()
    decoded = [pixels.decode(s["jpg"]) for s in samples]
    images = [pixels.finish(*d) for d in decoded]
    captions = [s["txt"].decode() for s in samples]
    stages = {
        "read the shards (tar members)": read,
        "decode the JPEG (libjpeg-turbo, n/8 scale)": lambda: [
            pixels.decode(s["jpg"]) for s in samples
        ],
        "crop and resample to 224 px (Pillow, bicubic)": lambda: [
            pixels.finish(*d) for d in decoded
        ],
        "batch tensor (uint8 -> float, normalise)": lambda: [
            pixels.stack(images[i : i + batch]) for i in range(0, n_images, batch)
        ],
        "tokenize the captions (256 tokens)": lambda: [
            tokenizer(captions[i : i + batch]) for i in range(0, n_images, batch)
        ],
    }
    best = dict.fromkeys(stages, float("inf"))
    for _ in range(repeat):
        for name, stage in stages.items():
            start = time.perf_counter()
            stage()
            best[name] = min(best[name], (time.perf_counter() - start) * 1000 / n_images)
    return list(best.items())


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench train")
    parser.add_argument("--data", help="a build's OUTPUT (default: sample build or fixtures)")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-every", type=int, default=5)
    parser.add_argument("--loader-images", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=2, help="best of N interleaved runs")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    threads = max(1, len(os.sched_getaffinity(0)) - args.workers)
    ours = theirs = theirs_threads = 0.0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data, described = pick_data(args.data, tmp)
        # Interleaved repeats, best of each: a shared CPU's load comes and goes.
        for attempt in range(args.repeat):
            rate, run_dir = run_ours(data, tmp / f"ours{attempt}", args)
            ours = max(ours, rate)
            if attempt == 0:
                spec = open_clip_spec(run_dir, tmp / "spec", tmp / "tower")
            logs = tmp / f"open_clip_logs{attempt}"
            theirs = max(theirs, run_open_clip_train(data, spec, logs / "a", args, None))
            rate = run_open_clip_train(data, spec, logs / "b", args, threads)
            theirs_threads = max(theirs_threads, rate)
        tower = tmp / "ours0" / "text_tower"
        loader_ours, loader_peer = loader_rates(
            data, tower, args.loader_images, args.batch_size, args.repeat
        )
        stages = loader_stages(data, tower, args.loader_images, args.batch_size, args.repeat)

    command = "python -m bench train" + (" " + " ".join(argv) if argv else "")
    rows = [
        ["pmc-pipeline train", f"{ours:.1f}", f"{ours / theirs:.2f}x"],
        ["open_clip_train", f"{theirs:.1f}", "1.00x"],
        [
            f"open_clip_train, OMP_NUM_THREADS={threads}",
            f"{theirs_threads:.1f}",
            f"{theirs_threads / theirs:.2f}x",
        ],
    ]
    loader_rows = [
        ["pmc_pipeline TrainStreams", f"{loader_ours:.1f}", f"{loader_ours / loader_peer:.2f}x"],
        ["webdataset pipeline of open_clip_train", f"{loader_peer:.1f}", "1.00x"],
    ]
    spent = sum(ms for _, ms in stages)
    stage_rows = [[name, f"{ms:.2f}", f"{ms / spent:.0%}"] for name, ms in stages]
    stage_rows.append(["all of these", f"{spent:.2f}", "100%"])
    markdown = "\n".join(
        [
            "## Trainer",
            "",
            f"Command: `{command}`. Machine: {machine()}, load average {load:.1f} at the "
            f"start (a CPU shared with other jobs). Data: {described}.",
            "",
            f"Training samples/s on the CPU, `tiny` config, batch {args.batch_size}, "
            f"{args.workers} loader worker(s), fp32, {args.steps} steps (the first "
            f"{args.log_every}-step interval excluded), best of {args.repeat} interleaved runs:",
            "",
            table(["trainer", "samples/s", "vs open_clip_train"], rows),
            "",
            "Where the difference comes from: our loader decodes each JPEG at the smallest "
            "scale that still covers the crop (libjpeg-turbo's n/8 scaling) and normalises "
            "once per batch, and the trainer gives torch only the cores its loader workers "
            f"leave free ({threads} here); open_clip_train decodes at full size and keeps "
            "torch's default of one thread per core, whose spinning threads contend with the "
            "workers (third row: the same with fewer threads).",
            "",
            f"Loader on one core (torch threads 1, no workers), 224 px RandomResizedCrop "
            f"and 256-token captions, {args.loader_images} images after the first batch, best "
            f"of {args.repeat}:",
            "",
            table(["loader", "images/s per core", "vs peer"], loader_rows),
            "",
            "Where our loader's time goes: each stage timed apart on the same images, best "
            f"of {args.repeat} (the whole stream above: {1000 / loader_ours:.2f} ms per image, "
            "with its shuffle buffer, per-sample seeding and batching; a shared CPU's load "
            "differs from one measurement to the next):",
            "",
            table(["stage", "ms per image", "share"], stage_rows),
        ]
    )
    print(markdown)
    write_section("train", markdown)
