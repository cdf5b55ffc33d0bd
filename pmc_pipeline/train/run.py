"""The run directory: what a run is (options, model config, text tower) and where its files go.

    RUN_DIR/run.json            options (with where each value came from) and the open_clip
                            model config of the run
    RUN_DIR/text_tower/         tokenizer + BERT config learnt from the build (no --text-tower)
    RUN_DIR/model/              the open_clip `local-dir:` spec the trainer builds the model from
    RUN_DIR/checkpoints/        step-NNNNNNNN.pt
    RUN_DIR/log.jsonl           one JSON object per logged step
    RUN_DIR/export/             weights + open_clip_config.json + tokenizer (plain open_clip)

run.json refers to the run's own text tower by a path relative to RUN_DIR, so a run directory
can be moved and resumed; the open_clip spec under model/ is rewritten with absolute paths at
every start.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from pmc_pipeline.train import tokenizer as tok
from pmc_pipeline.train.config import (
    GIVEN,
    PER_INVOCATION,
    TrainConfig,
    load_model_config,
    option_fields,
)
from pmc_pipeline.train.reader import iter_captions

log = logging.getLogger(__name__)

OWN_TOWER = "text_tower"  # run.json's name for RUN_DIR/text_tower


def write_json_atomic(path: Path, obj) -> None:
    # Every rank writes the same model spec at once: each needs a temporary file of its own.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class Run:
    """A run directory and what run.json says about it."""

    root: Path
    config: TrainConfig
    model_cfg: dict  # open_clip model config; text_cfg.hf_model_name may be OWN_TOWER
    text_pretrained: bool  # the text tower directory holds weights to start from

    @property
    def checkpoint_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def export_dir(self) -> Path:
        return self.root / "export"

    @property
    def log_path(self) -> Path:
        return self.root / "log.jsonl"

    @property
    def text_tower_dir(self) -> Path:
        name = self.model_cfg["text_cfg"]["hf_model_name"]
        return self.root / OWN_TOWER if name == OWN_TOWER else Path(name)

    @property
    def image_size(self) -> int:
        size = self.model_cfg["vision_cfg"]["image_size"]
        return int(max(size) if isinstance(size, (list, tuple)) else size)

    @property
    def context_length(self) -> int:
        return int(self.model_cfg["text_cfg"]["context_length"])

    def resolved_model_cfg(self) -> dict:
        """The model config with the text tower's absolute path, as open_clip needs it."""
        cfg = copy.deepcopy(self.model_cfg)
        tower = str(self.text_tower_dir.resolve())
        cfg["text_cfg"]["hf_model_name"] = cfg["text_cfg"]["hf_tokenizer_name"] = tower
        return cfg

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            self.root / "run.json",
            {
                "config": self.config.to_dict(),
                "sources": self.config.sources,
                "model_cfg": self.model_cfg,
                "text_pretrained": self.text_pretrained,
            },
        )


def has_run(root: Path) -> bool:
    return (root / "run.json").is_file()


def load_run(root: Path) -> Run:
    saved = json.loads((root / "run.json").read_text(encoding="utf-8"))
    return Run(
        root=root,
        config=TrainConfig.from_dict(saved["config"], saved.get("sources")),
        model_cfg=saved["model_cfg"],
        text_pretrained=bool(saved["text_pretrained"]),
    )


def model_cfg_for(config: TrainConfig) -> dict:
    """The model config named by --model with the command line's overrides applied."""
    cfg = load_model_config(config.model)
    if config.image_size is not None:
        cfg["vision_cfg"]["image_size"] = config.image_size
    if config.context_length is not None:
        cfg["text_cfg"]["context_length"] = config.context_length
    cfg["vision_cfg"]["patch_dropout"] = config.patch_dropout
    return cfg


def create_run(config: TrainConfig) -> Run:
    """Start a new run directory: resolve the model config and its text tower (the user's
    pretrained one, or one learnt from the build's training captions)."""
    root = Path(config.output)
    cfg = model_cfg_for(config)
    text_cfg = cfg["text_cfg"]
    if config.text_tower:
        tower = Path(config.text_tower).resolve()
        pretrained = tok.check_text_tower(tower)
        positions = json.loads((tower / "config.json").read_text()).get("max_position_embeddings")
        if positions is not None and text_cfg["context_length"] > positions:
            raise ValueError(
                f"context length {text_cfg['context_length']} exceeds the text tower's "
                f"{positions} positions"
            )
        text_cfg["hf_model_name"] = text_cfg["hf_tokenizer_name"] = str(tower)
    else:
        log.info("learning a WordPiece vocabulary from the training captions of %s", config.data)
        captions = iter_captions(config.data, "train", limit=config.tokenizer_max_captions)
        text_cfg["vocab_size"] = tok.build_text_tower(root / OWN_TOWER, captions, text_cfg)
        text_cfg["hf_model_name"] = text_cfg["hf_tokenizer_name"] = OWN_TOWER
        pretrained = False
    run = Run(root=root, config=config, model_cfg=cfg, text_pretrained=pretrained)
    run.save()
    return run


def resume_run(root: Path, requested: TrainConfig) -> Run:
    """The saved run with the options given in this invocation: options not given keep
    their saved values (not the preset's or the defaults, which may have changed), options of
    the invocation itself (PER_INVOCATION) are taken as asked, and options that define the
    model or the data stream (TrainConfig.FIXED_ON_RESUME) always keep their saved values."""
    run = load_run(root)
    saved, values, sources = run.config, {}, {}
    for name in (f.name for f in option_fields()):
        asked, given = getattr(requested, name), requested.sources[name] == GIVEN
        if name in TrainConfig.FIXED_ON_RESUME:
            if given and asked != getattr(saved, name):
                log.warning(
                    "--%s=%s ignored on resume: the run uses %s", name, asked, getattr(saved, name)
                )
            take = False
        else:
            take = given or name in PER_INVOCATION
        values[name] = asked if take else getattr(saved, name)
        sources[name] = requested.sources[name] if take else saved.sources[name]
    run.config = TrainConfig.from_dict(values, sources)
    run.save()
    return run


def write_open_clip_spec(run: Run) -> Path:
    """RUN_DIR/model/open_clip_config.json, for open_clip's `local-dir:` loader."""
    spec = run.root / "model"
    spec.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        spec / "open_clip_config.json",
        {"model_cfg": run.resolved_model_cfg(), "preprocess_cfg": {}},
    )
    return spec
