"""The training loop: InfoNCE with a learnable temperature over the global batch.

One code path for every device: CUDA only changes the device the tensors live on and turns
bf16 autocast on by default; torchrun only adds DDP and open_clip's gathered loss. Gradient
accumulation follows open_clip_train: features of all micro-batches are computed first
without gradients, then each micro-batch is recomputed with gradients against the cached
features of the others, so the contrastive loss always sees the whole global batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch
from open_clip.loss import ClipLoss
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from pmc_pipeline.train import checkpoint as ckpt
from pmc_pipeline.train.config import TrainConfig
from pmc_pipeline.train.data import Batch, DataState, TrainStreams, make_loader
from pmc_pipeline.train.decode import decode_side
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
from pmc_pipeline.train.plan import EpochPlan, stable_seed, step_multiple
from pmc_pipeline.train.reader import shard_sizes
from pmc_pipeline.train.run import Run, create_run, has_run, load_run, resume_run

log = logging.getLogger(__name__)

MAX_LOGIT_SCALE = math.log(100)  # CLIP's clamp of the learnt temperature
MAX_AUTO_WORKERS = 8
# Below this share of the train split per epoch, the plan's summary becomes a warning.
LOW_EPOCH_SHARE = 0.5


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


@functools.lru_cache(maxsize=4)
def train_shard_sizes(data: str) -> dict[str, int]:
    """The train split's samples per shard (read once per process)."""
    return shard_sizes(data, "train")


def total_steps(config: TrainConfig, pairs: int) -> int:
    if config.steps is not None:
        return config.steps
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


def cores_per_rank() -> int:
    """The CPU cores this process may use, divided among the ranks of its node."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def loader_workers(config: TrainConfig, world: World) -> tuple[int, bool]:
    """(loader worker processes per rank, chosen automatically). Automatic: the cores of
    the rank but one beside a GPU, half of them on the CPU (the model needs the rest), at
    most MAX_AUTO_WORKERS; the same on every rank (the smallest), as the epoch plan needs."""
    cores = cores_per_rank()
    if config.workers is not None:
        if config.workers > cores:
            log.warning(
                "--workers %d: more loader processes than the %d cores of this rank",
                config.workers,
                cores,
            )
        return config.workers, False
    workers = cores - 1 if world.device.type == "cuda" else cores // 2
    workers = max(0, min(MAX_AUTO_WORKERS, workers))
    return min(gather_objects(world, workers)), True


def plan_epochs(
    config: TrainConfig, world: World, workers: int, auto: bool, seed: int = 0
) -> tuple[EpochPlan, int]:
    """(the epoch plan, loader workers per rank), or ValueError when the train split cannot
    fill the global batch with distinct pairs. Automatic workers are lowered until every
    loader stream's share of an epoch fills a micro-batch."""
    sizes = train_shard_sizes(config.data)
    pairs = sum(sizes.values())
    if pairs == 0:
        raise ValueError(f"the train split of {config.data} is empty")
    if config.batch_size > pairs:
        fits = 2 ** int(math.log2(pairs))
        raise ValueError(
            f"--batch-size {config.batch_size} is larger than the train split of {config.data}, "
            f"which holds {pairs} pairs: a batch would hold the same pairs several times, and "
            f"most negatives of the contrastive loss would be the positive itself. Give "
            f"--batch-size {pairs} or less (e.g. {fits})"
        )
    micro = micro_batch_size(config, world)
    for count in range(workers, 0, -1) if auto and workers > 1 else [workers]:
        streams = world.world_size * max(1, count)
        multiple = step_multiple(config.accum_freq, count)
        plan = EpochPlan.build(sizes, streams, micro, multiple, seed)
        if plan.batches_per_epoch >= 1:
            break
    else:
        raise ValueError(
            f"the {pairs} train pairs of {config.data} cannot give each of the {streams} loader "
            f"streams ({world.world_size} rank(s) x {max(1, count)} worker(s)) a share that fills "
            f"a micro-batch of {micro} distinct pairs (the smallest share is "
            f"{plan.smallest_share}): give fewer --workers or a smaller --batch-size"
        )
    return plan, count


def report_plan(plan: EpochPlan, workers: int, asked: int) -> None:
    """Log how the train split is dealt out (a warning when much of it waits)."""
    if workers < asked:
        log.warning(
            "%d loader workers instead of %d: the %d train pairs fill micro-batches of %d for "
            "no more streams",
            workers,
            asked,
            plan.pairs,
            plan.micro_batch,
        )
    used = plan.pairs_per_epoch
    report = log.warning if used < LOW_EPOCH_SHARE * plan.pairs else log.info
    report(
        "epochs of %d of the %d train pairs: %d loader stream(s) x %d micro-batches of %d "
        "(the rest of a stream's share, a different part each epoch, waits for a later one)",
        used,
        plan.pairs,
        plan.streams,
        plan.batches_per_epoch,
        plan.micro_batch,
    )


def share_cpu_cores(workers: int) -> None:
    """On the CPU, leave one core to each loader worker: torch's intra-op threads spin while
    they wait, so a main process with as many threads as cores, next to busy workers, runs
    several times slower than one with the cores that are left."""
    threads = max(1, cores_per_rank() - workers)
    if torch.get_num_threads() > threads:
        log.info("using %d torch threads beside %d loader workers", threads, workers)
        torch.set_num_threads(threads)


def restored_data(checkpoint: dict, world: World, workers: int, seed: int, plan: EpochPlan):
    """(this rank's DataState, data seed, exact) after a resume. Positions only mean
    something for the same world size, worker count and epoch plan; otherwise the streams
    restart from a seed derived from the step, so no data is replayed identically, and
    `exact` is False."""
    data = checkpoint["data"]
    same = (data["world_size"], data["workers"]) == (world.world_size, workers)
    if same and data.get("plan") == plan.fingerprint():
        return DataState.from_dict(data["ranks"][world.rank]), seed, True
    log.warning(
        "resuming with %d ranks x %d workers (checkpoint: %d x %d)%s: data streams restart",
        world.world_size,
        workers,
        data["world_size"],
        data["workers"],
        "" if not same else ", and another epoch plan (batch size or shards changed)",
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
        if broadcast_object(world, not (config.resume and has_run(Path(config.output)))):
            # A new run: refuse a batch the data cannot fill before anything is written.
            plan_epochs(config, world, *loader_workers(config, world))
        self.run = open_run(config, world)
        self.config = config = self.run.config  # on resume the saved model/data options win
        log.info("recipe: %s", config.describe())
        asked, auto = loader_workers(config, world)
        self.plan, self.workers = plan_epochs(config, world, asked, auto)
        report_plan(self.plan, self.workers, asked)
        self.total = total_steps(config, self.plan.pairs)
        self.stop = min(self.total, config.stop_at_step) if config.stop_at_step else self.total
        if self.total < config.warmup:
            log.warning(
                "--warmup %d is longer than the run's %d steps: the learning rate never "
                "reaches its peak of %g",
                config.warmup,
                self.total,
                config.lr,
            )
        self.precision = resolve_precision(config.precision, world.device)
        if world.device.type == "cpu":
            share_cpu_cores(self.workers)

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
                checkpoint, world, self.workers, config.seed, self.plan
            )
        # The schedule follows this invocation's --steps / --warmup; the step count is kept.
        self.scheduler.lr_lambdas[0] = WarmupCosine(config.warmup, self.total)

        self.plan = dataclasses.replace(self.plan, seed=data_seed)
        self.loader = self._loader(train_transform)
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
            ckpt.set_rng_state(cast(dict, checkpoint)["rng"][world.rank], world.device)
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

    def _loader(self, transform):
        config, run, streams = self.config, self.run, max(1, self.workers)
        dataset = TrainStreams(
            config.data,
            self.plan,
            transform=transform,
            tokenizer_dir=str(run.text_tower_dir),
            context_length=run.context_length,
            rank=self.world.rank,
            num_streams=streams,
            shuffle_buffer=config.shuffle_buffer,
            start=self.data.positions,
            rotation=self.data.batches % streams,
            min_side=decode_side(run.image_size, config.crop_scale[0]),
        )
        pin = self.world.device.type == "cuda"
        return make_loader(dataset, self.workers, self.plan.seed + self.world.rank, pin)

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
                    "workers": self.workers,
                    "plan": self.plan.fingerprint(),
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
        skipped: Counter = sum(gather_objects(self.world, self.data.skipped), Counter())
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
        skipped: Counter = sum(gather_objects(self.world, self.data.skipped), Counter())
        return TrainResult(self.run.root, self.step, self.total, loss, dict(skipped), export_dir)
