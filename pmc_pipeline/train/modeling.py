"""The model, optimizer and learning-rate schedule of a run, built with open_clip.

The model is created by open_clip's own factory from the run's `local-dir:` spec, the same
way a user loads the export, so what we train is what plain open_clip loads.
"""

from __future__ import annotations

import math
from typing import Any, cast

import open_clip
import torch

from pmc_pipeline.train.config import TrainConfig
from pmc_pipeline.train.run import Run, write_open_clip_spec


def create_model(run: Run, device: torch.device):
    """(model, train transform, eval transform) of the run, randomly initialised except for
    a pretrained text tower; the train transform is open_clip's RandomResizedCrop at the
    run's crop scale."""
    spec = write_open_clip_spec(run)
    # open_clip logs that no CLIP weights were found, as expected for a model being trained:
    # the train command's logging drops its lines (pmc_pipeline/logs.py).
    model, train_transform, eval_transform = open_clip.create_model_and_transforms(
        f"local-dir:{spec}",
        pretrained_text=run.text_pretrained,
        aug_cfg={"scale": run.config.crop_scale},
        output_dict=True,
        device=device,
    )
    return model, train_transform, eval_transform


def enable_grad_checkpointing(model: torch.nn.Module) -> None:
    """Recompute activations in the backward pass in both towers. The HF text tower uses
    the non-reentrant variant, which needs no input that requires grad and works with DDP."""
    clip = cast(Any, model)  # open_clip's model: .visual and .text towers
    clip.visual.set_grad_checkpointing(True)
    hf_model: Any = getattr(clip.text, "transformer", None)
    kwargs = {"use_reentrant": False}
    if hasattr(hf_model, "activation_checkpointing_enable"):  # transformers >= 5
        hf_model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    elif hasattr(hf_model, "gradient_checkpointing_enable"):
        hf_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    else:  # open_clip's own text transformer
        clip.text.set_grad_checkpointing(True)


def _no_weight_decay(name: str, param: torch.nn.Parameter) -> bool:
    """Gains, biases and the temperature are not decayed (as in open_clip_train)."""
    return param.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name


def create_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups: list[dict[str, Any]] = [
        {"params": [p for n, p in named if _no_weight_decay(n, p)], "weight_decay": 0.0},
        {"params": [p for n, p in named if not _no_weight_decay(n, p)]},
    ]
    return torch.optim.AdamW(
        groups,
        lr=config.lr,
        betas=(config.beta1, config.beta2),
        eps=config.eps,
        weight_decay=config.weight_decay,
    )


class WarmupCosine:
    """LR multiplier: linear warmup to 1 over `warmup` steps, then cosine decay to 0 at
    `total` steps. A class (not a lambda) so the schedule is plain, inspectable state."""

    def __init__(self, warmup: int, total: int):
        self.warmup, self.total = warmup, total

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        span = max(1, self.total - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        return 0.5 * (1.0 + math.cos(math.pi * progress))


def create_scheduler(optimizer: torch.optim.Optimizer, warmup: int, total: int):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(warmup, total))
