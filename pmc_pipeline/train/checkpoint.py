"""Checkpoints: everything a resumed run needs to continue as if it had never stopped.

A checkpoint holds the model, optimizer and scheduler state, the step, and per rank the data
stream positions and the RNG state. Files are written beside the target and renamed, so a
crash mid-write never leaves a truncated `step-*.pt` for --resume to pick up.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch

_NAME = re.compile(r"^step-(\d{8})\.pt$")


def checkpoint_path(directory: Path, step: int) -> Path:
    return directory / f"step-{step:08d}.pt"


def list_checkpoints(directory: Path) -> list[Path]:
    """Checkpoint files, oldest step first."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(directory: Path) -> Path | None:
    found = list_checkpoints(directory)
    return found[-1] if found else None


def save_checkpoint(directory: Path, step: int, state: dict, keep: int) -> Path:
    """Write state as step-NNNNNNNN.pt and keep only the newest `keep` checkpoints."""
    directory.mkdir(parents=True, exist_ok=True)
    target = checkpoint_path(directory, step)
    tmp = target.with_name(target.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, target)
    for old in list_checkpoints(directory)[:-keep]:
        old.unlink(missing_ok=True)
    return target


def load_checkpoint(path: Path) -> dict:
    # weights_only: a checkpoint holds tensors, numbers, strings and dicts; refusing anything
    # else means a tampered file cannot run code on load.
    return torch.load(path, map_location="cpu", weights_only=True)


def rng_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def parameter_digest(model: torch.nn.Module) -> str:
    """A hash of every parameter's bytes: equal on all DDP ranks unless they diverged."""
    digest = hashlib.blake2b(digest_size=16)
    for name, param in model.named_parameters():
        digest.update(name.encode())
        digest.update(param.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
