"""Process group set-up for `torchrun` (NCCL on GPUs, gloo on CPUs) and the few collective
helpers the trainer needs. A plain `python` run is a world of one and touches no
torch.distributed state, so the same code path serves both."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def pick_device(requested: str | None, local_rank: int = 0) -> torch.device:
    """cuda:LOCAL_RANK when CUDA is requested or available, else cpu."""
    if requested in (None, "cuda") and torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    if requested == "cuda":
        raise ValueError("--device cuda requested but CUDA is not available")
    return torch.device(requested or "cpu")


def init_world(requested_device: str | None) -> World:
    """Join the process group torchrun describes in the environment (RANK, WORLD_SIZE,
    LOCAL_RANK, MASTER_ADDR, MASTER_PORT), or return a world of one."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(requested_device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return World(rank=rank, world_size=world_size, local_rank=local_rank, device=device)


def close_world(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def gather_objects(world: World, obj) -> list:
    """Every rank's `obj`, in rank order (picklable objects; small, e.g. data positions)."""
    if not world.distributed:
        return [obj]
    out: list = [None] * world.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(world: World, obj):
    """Rank 0's `obj` on every rank."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
