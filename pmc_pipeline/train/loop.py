"""The training loop: InfoNCE with a learnable temperature over the global batch.

One code path for every device: CUDA only changes the device the tensors live on and turns
bf16 autocast on by default; torchrun only adds DDP and open_clip's gathered loss. Gradient
accumulation follows open_clip_train: features of all micro-batches are computed first
without gradients, then each micro-batch is recomputed with gradients against the cached
features of the others, so the contrastive loss always sees the whole global batch.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
from open_clip.loss import ClipLoss
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from pmc_pipeline.train import checkpoint as ckpt
from pmc_pipeline.train.config import TrainConfig
from pmc_pipeline.train.data import Batch, StreamPosition, TrainStreams, _stable_seed, make_loader
from pmc_pipeline.train.distributed import (
    World,
    barrier,
    broadcast_object,
    close_world,
    gather_objects,
    init_world,
)
from pmc_pipeline.train.export import export_model
from pmc_pipeline.train.logs import RunLog
from pmc_pipeline.train.modeling import (
    WarmupCosine,
    create_model,
    create_optimizer,
    create_scheduler,
    enable_grad_checkpointing,
)
from pmc_pipeline.train.reader import count_pairs, shard_paths
from pmc_pipeline.train.run import Run, create_run, has_run, load_run, resume_run

log = logging.getLogger(__name__)

MAX_LOGIT_SCALE = math.log(100)  # CLIP's clamp of the learnt temperature


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    total_steps: int
    loss: float | None
    skipped: dict[str, int]
    export_dir: Path | None


def train(config: TrainConfig) -> TrainResult:
    """Train (or continue, with config.resume) the run in config.output."""
    world = init_world(config.device)
    try:
        return _train(config, world)
    finally:
        close_world(world)


def open_run(config: TrainConfig, world: World) -> Run:
    """Create or reopen the run directory on rank 0; the other ranks wait and read it."""
    root = Path(config.output)
    error = None
    if world.is_main:
        try:
            if has_run(root) and not config.resume:
                raise FileExistsError(
                    f"{root} already holds a run; pass --resume to continue it or choose "
                    "another --output"
                )
            run = resume_run(root, config) if has_run(root) else create_run(config)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if not world.distributed:
                raise
    error = broadcast_object(world, error)
    if error:
        raise RuntimeError(f"rank 0 could not open the run: {error}")
    if not world.is_main:
        run = load_run(root)
    return run


def total_steps(config: TrainConfig) -> int:
    if config.steps is not None:
        return config.steps
    pairs = count_pairs(config.data, "train")
    if pairs == 0:
        raise ValueError(f"the train split of {config.data} is empty")
    return max(1, math.ceil(config.epochs * pairs / config.batch_size))


def micro_batch_size(config: TrainConfig, world: World) -> int:
    parts = world.world_size * config.accum_freq
    if config.batch_size % parts:
        raise ValueError(
            f"--batch-size {config.batch_size} is not divisible by world size x accum-freq = {parts}"
        )
    return config.batch_size // parts


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    return precision


class DataState:
    """What this rank has consumed: per-stream positions, batches, skipped samples."""

    def __init__(self, positions=None, batches: int = 0, skipped=None):
        self.positions: dict[int, StreamPosition] = dict(positions or {})
        self.batches = batches
        self.skipped: Counter = Counter(skipped or {})

    def consume(self, batch: Batch) -> None:
        self.positions[batch.stream] = batch.position
        self.batches += 1
        self.skipped.update(batch.skipped)

    def to_dict(self) -> dict:
        return {
            "positions": [[s, *p.astuple()] for s, p in sorted(self.positions.items())],
            "batches": self.batches,
            "skipped": dict(self.skipped),
        }

    @classmethod
    def from_dict(cls, saved: dict) -> DataState:
        positions = {s: StreamPosition(d, o) for s, d, o in saved["positions"]}
        return cls(positions, saved["batches"], saved["skipped"])


def _restore(checkpoint: dict, world: World, workers: int, seed: int):
    """(this rank's data state, data seed, exact) after a resume. Positions only mean
    something for the same world size and worker count; otherwise the streams restart from
    a seed derived from the step, so no data is replayed identically, and `exact` is False."""
    data = checkpoint["data"]
    if data["world_size"] == world.world_size and data["workers"] == workers:
        return DataState.from_dict(data["ranks"][world.rank]), seed, True
    log.warning(
        "resuming with %d ranks x %d workers (checkpoint: %d x %d): data streams restart",
        world.world_size,
        workers,
        data["world_size"],
        data["workers"],
    )
    return DataState(), _stable_seed("resume", seed, checkpoint["step"]), False


def train_step(model, batches: list[Batch], loss_fn, optimizer, autocast, device, clip_norm):
    """One optimizer step over the micro-batches; returns the loss (a float)."""
    optimizer.zero_grad(set_to_none=True)
    inputs = [(b.images.to(device, non_blocking=True), b.texts.to(device)) for b in batches]
    if len(inputs) == 1:
        with autocast():
            out = model(*inputs[0])
            loss = loss_fn(out["image_features"], out["text_features"], out["logit_scale"])
        loss.backward()
    else:
        with torch.no_grad(), autocast():
            cached = [model(images, texts) for images, texts in inputs]
        images_cache = [out["image_features"] for out in cached]
        texts_cache = [out["text_features"] for out in cached]
        last = len(inputs) - 1
        for j, (images, texts) in enumerate(inputs):
            # DDP all-reduces gradients only after the last micro-batch.
            no_sync = model.no_sync() if isinstance(model, DistributedDataParallel) else None
            with no_sync if (no_sync is not None and j < last) else contextlib.nullcontext():
                with autocast():
                    out = model(images, texts)
                    image_features = torch.cat(
                        images_cache[:j] + [out["image_features"]] + images_cache[j + 1 :]
                    )
                    text_features = torch.cat(
                        texts_cache[:j] + [out["text_features"]] + texts_cache[j + 1 :]
                    )
                    loss = loss_fn(image_features, text_features, out["logit_scale"])
                loss.backward()
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    optimizer.step()
    return loss.item()


def _train(config: TrainConfig, world: World) -> TrainResult:
    run = open_run(config, world)
    config = run.config  # resolved: saved model/data options win on resume
    total = total_steps(config)
    stop = min(total, config.stop_at_step) if config.stop_at_step else total
    micro = micro_batch_size(config, world)
    precision = resolve_precision(config.precision, world.device)

    torch.manual_seed(config.seed)  # identical initial weights on every rank
    model, train_transform, _ = create_model(run, world.device)
    if config.grad_checkpointing:
        enable_grad_checkpointing(model)
    optimizer = create_optimizer(model, config)
    scheduler = create_scheduler(optimizer, config.warmup, total)

    latest = ckpt.latest_checkpoint(run.checkpoint_dir) if config.resume else None
    checkpoint = ckpt.load_checkpoint(latest) if latest else None
    step, data_seed, state, exact = 0, config.seed, DataState(), False
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        step = checkpoint["step"]
        state, data_seed, exact = _restore(checkpoint, world, config.workers, config.seed)
        log.info("resumed %s at step %d", latest, step)
    # The schedule follows this invocation's --steps/--warmup (the saved step count stays).
    scheduler.lr_lambdas[0] = WarmupCosine(config.warmup, total)

    streams = max(1, config.workers)
    dataset = TrainStreams(
        config.data,
        shard_paths(config.data, "train"),
        transform=train_transform,
        tokenizer_dir=str(run.text_tower_dir),
        context_length=run.context_length,
        batch_size=micro,
        seed=data_seed,
        rank=world.rank,
        num_streams=streams,
        shuffle_buffer=config.shuffle_buffer,
        start=state.positions,
        rotation=state.batches % streams,
    )
    pin = world.device.type == "cuda"
    loader = make_loader(dataset, config.workers, seed=data_seed + world.rank, pin_memory=pin)

    ddp = model
    if world.distributed:
        ddp = DistributedDataParallel(model, device_ids=[world.device.index] if pin else None)
    loss_fn = ClipLoss(
        local_loss=config.local_loss,
        gather_with_grad=config.gather_with_grad,
        cache_labels=True,
        rank=world.rank,
        world_size=world.world_size,
    )
    bf16 = precision == "bf16"

    def autocast():
        return torch.autocast(device_type=world.device.type, dtype=torch.bfloat16, enabled=bf16)

    # Dropout and patch dropout draw from the global RNG: per rank, continued on resume.
    if exact:
        ckpt.set_rng_state(checkpoint["rng"][world.rank], world.device)
    else:
        torch.manual_seed(_stable_seed("model", config.seed, world.rank, step))

    def save(at_step: int) -> None:
        mine = (state.to_dict(), ckpt.rng_state(world.device), ckpt.parameter_digest(model))
        ranks = gather_objects(world, mine)
        digests = [r[2] for r in ranks]
        if len(set(digests)) > 1:  # DDP keeps replicas equal; anything else is a bug
            raise RuntimeError(f"ranks hold different parameters at step {at_step}: {digests}")
        if world.is_main:
            ckpt.save_checkpoint(
                run.checkpoint_dir,
                at_step,
                {
                    "step": at_step,
                    "total_steps": total,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "data": {
                        "world_size": world.world_size,
                        "workers": config.workers,
                        "ranks": [r[0] for r in ranks],
                    },
                    "rng": [r[1] for r in ranks],
                    "param_digests": digests,
                    "config": config.to_dict(),
                },
                keep=config.keep_checkpoints,
            )
        barrier(world)

    loss_value = None
    model.train()
    run_log = RunLog(run.log_path, run.root / "tensorboard") if world.is_main else None
    progress = tqdm(
        total=stop, initial=step, disable=not (world.is_main and config.progress), unit="step"
    )
    batches = iter(loader)
    tick, tick_step = time.perf_counter(), step
    try:
        while step < stop:
            micro_batches = [next(batches) for _ in range(config.accum_freq)]
            for batch in micro_batches:
                state.consume(batch)
            loss_value = train_step(
                ddp,
                micro_batches,
                loss_fn,
                optimizer,
                autocast,
                world.device,
                config.grad_clip_norm,
            )
            scheduler.step()
            step += 1
            with torch.no_grad():
                model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
            progress.update(1)
            if step % config.log_every == 0 or step == stop:
                skipped = sum(gather_objects(world, state.skipped), Counter())
                now = time.perf_counter()
                record = {
                    "step": step,
                    "loss": loss_value,
                    "lr": optimizer.param_groups[0]["lr"],
                    "logit_scale": model.logit_scale.exp().item(),
                    "samples": step * config.batch_size,
                    "samples_per_s": (step - tick_step) * config.batch_size / (now - tick),
                    "skipped": sum(skipped.values()),
                    "skipped_by_reason": dict(skipped),
                }
                tick, tick_step = now, step
                if run_log is not None:
                    run_log.write(record)
                progress.set_postfix(loss=f"{loss_value:.4f}")
            if step % config.save_every == 0 or step == stop:
                save(step)
    finally:
        progress.close()
        if run_log is not None:
            run_log.close()
        del batches  # stops the loader's workers

    export_dir = None
    if step >= total:
        if world.is_main:
            export_dir = export_model(run, model)
        barrier(world)
        export_dir = run.export_dir
    skipped = sum(gather_objects(world, state.skipped), Counter())
    return TrainResult(run.root, step, total, loss_value, dict(skipped), export_dir)
