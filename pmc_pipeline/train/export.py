"""RUN_DIR/export/: a directory plain open_clip loads offline, without pmc_pipeline.

    open_clip_model.safetensors   the CLIP weights (both towers, projections, temperature)
    open_clip_config.json         {"model_cfg": ..., "preprocess_cfg": ...}
    config.json, tokenizer.json,  the text tower's description and tokenizer (Hugging Face);
    tokenizer_config.json, ...    no separate text weights: they are in the CLIP weights

    model, _, preprocess = open_clip.create_model_and_transforms("local-dir:RUN_DIR/export")
    tokenizer = open_clip.get_tokenizer("local-dir:RUN_DIR/export")

open_clip resolves the tokenizer from the directory itself, but builds an HF text tower from
`text_cfg.hf_model_name`, which must be a path: we write the export directory's absolute
path there. After moving an export, call `relocate_export(new_dir)` (or rewrite that field).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import torch
from safetensors.torch import save_file

from pmc_pipeline.train.run import Run, write_json_atomic
from pmc_pipeline.train.tokenizer import copy_tower_files

WEIGHTS_NAME = "open_clip_model.safetensors"
CONFIG_NAME = "open_clip_config.json"


def export_model(run: Run, model: torch.nn.Module, directory: Path | None = None) -> Path:
    """Write the export of `model` (unwrapped from DDP) for `run`; replaces an old export
    only once the new one is complete."""
    target = (directory or run.export_dir).resolve()
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    copy_tower_files(run.text_tower_dir, staging)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(staging / WEIGHTS_NAME), metadata={"format": "pt"})
    model_cfg = run.resolved_model_cfg()
    model_cfg["vision_cfg"].pop("patch_dropout", None)  # a training-time option
    visual = cast(Any, model.visual)  # open_clip's vision tower
    config = {"model_cfg": model_cfg, "preprocess_cfg": dict(visual.preprocess_cfg)}
    write_json_atomic(staging / CONFIG_NAME, config)
    relocate_export(staging, final_dir=target)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def relocate_export(directory: Path, final_dir: Path | None = None) -> None:
    """Point the export's text tower at the directory it lives in (or will live in)."""
    path = directory / CONFIG_NAME
    config = json.loads(path.read_text(encoding="utf-8"))
    where = str((final_dir or directory).resolve())
    text_cfg = config["model_cfg"]["text_cfg"]
    text_cfg["hf_model_name"] = text_cfg["hf_tokenizer_name"] = where
    write_json_atomic(path, config)
