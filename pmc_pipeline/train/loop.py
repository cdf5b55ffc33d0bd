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
import os
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
from pmc_pipeline.train.data import (
    Batch,
    DataState,
    TrainStreams,
    decode_side,
    make_loader,
    stable_seed,
)
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
        return Trainer(config, world).fit()
    finally:
        close_world(world)


# --- set-up ----------------------------------------------------------------------------------


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
            if not world.distributed:
                raise
            error = f"{type(exc).__name__}: {exc}"
    error = broadcast_object(world, error)
    if error:
        raise RuntimeError(f"rank 0 could not open the run: {error}")
    return run if world.is_main else load_run(root)


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


def share_cpu_cores(workers: int) -> None:
    """On the CPU, leave one core to each loader worker: torch's intra-op threads spin while
    they wait, so a main process with as many threads as cores, next to busy workers, runs
    several times slower than one with the cores that are left."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = max(1, (cores or 1) - workers)
    if torch.get_num_threads() > threads:
        log.info("using %d torch threads beside %d loader workers", threads, workers)
        torch.set_num_threads(threads)


def restored_data(checkpoint: dict, world: World, workers: int, seed: int):
    """(this rank's DataState, data seed, exact) after a resume. Positions only mean
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
    return DataState(), stable_seed("resume", seed, checkpoint["step"]), False


# --- one optimizer step ----------------------------------------------------------------------


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
            syncing = j == last or not isinstance(model, DistributedDataParallel)
            with contextlib.nullcontext() if syncing else model.no_sync():
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


# --- the run ---------------------------------------------------------------------------------


class Trainer:
    """One invocation of a run on one rank: set up (or restore) everything, then step.

    The order of set-up matters for exact resume: the model is initialised from the seed
    on every rank, the checkpoint (if any) is loaded over it, and the global RNG (dropout,
    patch dropout) is set last, from the checkpoint or from the seed."""

    def __init__(self, config: TrainConfig, world: World):
        self.world = world
        self.run = open_run(config, world)
        self.config = config = self.run.config  # on resume the saved model/data options win
        self.total = total_steps(config)
        self.stop = min(self.total, config.stop_at_step) if config.stop_at_step else self.total
        self.precision = resolve_precision(config.precision, world.device)
        if world.device.type == "cpu":
            share_cpu_cores(config.workers)

        torch.manual_seed(config.seed)  # identical initial weights on every rank
        self.model, train_transform, _ = create_model(self.run, world.device)
        if config.grad_checkpointing:
            enable_grad_checkpointing(self.model)
        self.optimizer = create_optimizer(self.model, config)
        self.scheduler = create_scheduler(self.optimizer, config.warmup, self.total)
        self.step, self.data, checkpoint = 0, DataState(), self._latest_checkpoint()
        data_seed, exact = config.seed, False
        if checkpoint is not None:
            self.model.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            self.scheduler.load_state_dict(checkpoint["scheduler"])
            self.step = checkpoint["step"]
            self.data, data_seed, exact = restored_data(
                checkpoint, world, config.workers, config.seed
            )
        # The schedule follows this invocation's --steps / --warmup; the step count is kept.
        self.scheduler.lr_lambdas[0] = WarmupCosine(config.warmup, self.total)

        self.loader = self._loader(train_transform, data_seed)
        self.ddp = self.model
        if world.distributed:
            devices = [world.device.index] if world.device.type == "cuda" else None
            self.ddp = DistributedDataParallel(self.model, device_ids=devices)
        self.loss_fn = ClipLoss(
            local_loss=config.local_loss,
            gather_with_grad=config.gather_with_grad,
            cache_labels=True,
            rank=world.rank,
            world_size=world.world_size,
        )
        if exact:
            ckpt.set_rng_state(checkpoint["rng"][world.rank], world.device)
        else:
            torch.manual_seed(stable_seed("model", config.seed, world.rank, self.step))

    def _latest_checkpoint(self) -> dict | None:
        if not self.config.resume:
            return None
        latest = ckpt.latest_checkpoint(self.run.checkpoint_dir)
        if latest is None:
            return None
        log.info("resuming from %s", latest)
        return ckpt.load_checkpoint(latest)

    def _loader(self, transform, data_seed: int):
        config, run, streams = self.config, self.run, max(1, self.config.workers)
        dataset = TrainStreams(
            config.data,
            shard_paths(config.data, "train"),
            transform=transform,
            tokenizer_dir=str(run.text_tower_dir),
            context_length=run.context_length,
            batch_size=micro_batch_size(config, self.world),
            seed=data_seed,
            rank=self.world.rank,
            num_streams=streams,
            shuffle_buffer=config.shuffle_buffer,
            start=self.data.positions,
            rotation=self.data.batches % streams,
            min_side=decode_side(run.image_size, config.crop_scale[0]),
        )
        pin = self.world.device.type == "cuda"
        return make_loader(dataset, config.workers, data_seed + self.world.rank, pin)

    def autocast(self):
        bf16 = self.precision == "bf16"
        return torch.autocast(self.world.device.type, dtype=torch.bfloat16, enabled=bf16)

    def save(self) -> None:
        """Checkpoint on rank 0 with every rank's data position and RNG state."""
        mine = (self.data.to_dict(), ckpt.rng_state(self.world.device))
        ranks = gather_objects(self.world, (*mine, ckpt.parameter_digest(self.model)))
        digests = [r[2] for r in ranks]
        if len(set(digests)) > 1:  # DDP keeps replicas equal; anything else is a bug
            raise RuntimeError(f"ranks hold different parameters at step {self.step}: {digests}")
        if self.world.is_main:
            state = {
                "step": self.step,
                "total_steps": self.total,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "data": {
                    "world_size": self.world.world_size,
                    "workers": self.config.workers,
                    "ranks": [r[0] for r in ranks],
                },
                "rng": [r[1] for r in ranks],
                "param_digests": digests,
                "config": self.config.to_dict(),
            }
            ckpt.save_checkpoint(
                self.run.checkpoint_dir, self.step, state, self.config.keep_checkpoints
            )
        barrier(self.world)

    def record(self, loss: float, seconds: float, steps: int) -> dict:
        """The log record of the current step (skips summed over all ranks)."""
        skipped = sum(gather_objects(self.world, self.data.skipped), Counter())
        return {
            "step": self.step,
            "loss": loss,
            "lr": self.optimizer.param_groups[0]["lr"],
            "logit_scale": self.model.logit_scale.exp().item(),
            "samples": self.step * self.config.batch_size,
            "samples_per_s": steps * self.config.batch_size / seconds,
            "skipped": sum(skipped.values()),
            "skipped_by_reason": dict(skipped),
        }

    def fit(self) -> TrainResult:
        config, world = self.config, self.world
        loss = None
        self.model.train()
        run_log = (
            RunLog(self.run.log_path, self.run.root / "tensorboard") if world.is_main else None
        )
        show = world.is_main and config.progress
        progress = tqdm(total=self.stop, initial=self.step, disable=not show, unit="step")
        batches = iter(self.loader)
        tick, tick_step = time.perf_counter(), self.step
        try:
            while self.step < self.stop:
                micro_batches = [next(batches) for _ in range(config.accum_freq)]
                for batch in micro_batches:
                    self.data.consume(batch)
                loss = train_step(
                    self.ddp,
                    micro_batches,
                    self.loss_fn,
                    self.optimizer,
                    self.autocast,
                    world.device,
                    config.grad_clip_norm,
                )
                self.scheduler.step()
                self.step += 1
                with torch.no_grad():
                    self.model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
                progress.update(1)
                if self.step % config.log_every == 0 or self.step == self.stop:
                    now = time.perf_counter()
                    record = self.record(loss, now - tick, self.step - tick_step)
                    tick, tick_step = now, self.step
                    if run_log is not None:
                        run_log.write(record)
                    progress.set_postfix(loss=f"{loss:.4f}")
                if self.step % config.save_every == 0 or self.step == self.stop:
                    self.save()
        finally:
            progress.close()
            if run_log is not None:
                run_log.close()
            del batches  # stops the loader's workers
        return self.finish(loss)

    def finish(self, loss: float | None) -> TrainResult:
        """Export when the schedule is complete; sum the skips of all ranks."""
        export_dir = None
        if self.step >= self.total:
            if self.world.is_main:
                export_model(self.run, self.model)
            barrier(self.world)
            export_dir = self.run.export_dir
        skipped = sum(gather_objects(self.world, self.data.skipped), Counter())
        return TrainResult(self.run.root, self.step, self.total, loss, dict(skipped), export_dir)
