"""Training options, model presets and their recipes.

`TrainConfig` holds every option of a run. Each option not given takes its value from the
model preset's recipe when the preset has one, else its default: the BiomedCLIP recipe
(ViT-B/16 at 224 px, PubMedBERT text tower with context 256, embedding 512, InfoNCE with a
learnable temperature, AdamW betas 0.9/0.98, eps 1e-6, weight decay 0.2, peak LR 5e-4 with
2,000 warmup steps and cosine decay, global batch 4,096, bf16 autocast on CUDA, gradient
checkpointing). `config.sources` says where each value came from ("given", "preset tiny",
"default"); run.json saves it. The command line is generated from the dataclass, so an
option, its default, the presets' values and its help live in one place.

Model shapes are open_clip model configs (JSON files in model_configs/, or a path to one),
as in open_clip itself: a shape is data, not a code branch. A config may carry a `recipe`
object beside the shape: defaults for the options of PRESET_OPTIONS (e.g. `tiny`'s batch
of 64 for a CPU); open_clip never sees it.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

MODEL_CONFIG_DIR = Path(__file__).resolve().parent / "model_configs"
PRECISIONS = ("auto", "fp32", "bf16")
RECIPE_KEY = "recipe"
GIVEN, DEFAULT = "given", "default"


class _Unset:
    """The value of an option nobody gave (resolved in TrainConfig.__post_init__)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: typing.Any = _Unset()


def model_config_names() -> list[str]:
    """Names of the model configs shipped with the package (`tiny`, `biomedclip`, ...)."""
    return sorted(p.stem for p in MODEL_CONFIG_DIR.glob("*.json"))


@functools.lru_cache(maxsize=16)
def _read_preset(name_or_path: str) -> tuple[Path, dict]:
    path = Path(name_or_path)
    if not path.suffix == ".json":
        path = MODEL_CONFIG_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise ValueError(
            f"unknown model config {name_or_path!r}: not a JSON file and not one of "
            f"{', '.join(model_config_names())}"
        )
    return path, json.loads(path.read_text(encoding="utf-8"))


def load_model_config(name_or_path: str) -> dict:
    """An open_clip model config (`embed_dim`, `vision_cfg`, `text_cfg`) by shipped name or
    by path to a JSON file, without its recipe. Returns a fresh copy the caller may modify."""
    path, preset = _read_preset(name_or_path)
    config = preset.get("model_cfg", preset)  # also accept an open_clip_config.json
    config = {k: v for k, v in config.items() if k != RECIPE_KEY}
    missing = {"embed_dim", "vision_cfg", "text_cfg"} - set(config)
    if missing:
        raise ValueError(f"model config {path} lacks {', '.join(sorted(missing))}")
    return copy.deepcopy(config)


def preset_recipe(name_or_path: str) -> dict:
    """The option defaults a model config carries in its `recipe` object ({} if none)."""
    path, preset = _read_preset(name_or_path)
    recipe = preset.get(RECIPE_KEY, {})
    if not isinstance(recipe, dict):
        raise ValueError(f"model config {path}: {RECIPE_KEY!r} must be an object")
    wrong = sorted(set(recipe) - set(PRESET_OPTIONS))
    if wrong:
        raise ValueError(
            f"model config {path}: its recipe sets {', '.join(wrong)}; a recipe may set "
            f"{', '.join(PRESET_OPTIONS)}"
        )
    return copy.deepcopy(recipe)


# The recipe options the trainer logs at the start of a run.
RECIPE_SUMMARY = (
    "epochs",
    "batch_size",
    "accum_freq",
    "lr",
    "warmup",
    "grad_checkpointing",
    "precision",
    "workers",
)


def _opt(default, help: str, **extra):
    """A TrainConfig field with its default and command-line help; a field not given is
    UNSET until __post_init__ resolves it (required when `default` is MISSING)."""
    if default is MISSING:
        return field(metadata={"help": help, **extra})
    return field(default=UNSET, metadata={"help": help, "default": default, **extra})


@dataclass
class TrainConfig:
    """Every option of a training run. An option not given takes the model preset's recipe
    value, else its default (the BiomedCLIP recipe)."""

    data: str = _opt(MISSING, "the build's OUTPUT (local path, s3:// or gs://)")
    output: str = _opt(MISSING, "the run directory (checkpoints, logs, export)")
    model: str = _opt(
        "biomedclip", "model config: a shipped name (tiny, biomedclip) or a JSON file path"
    )
    text_tower: str | None = _opt(
        None,
        "a local Hugging Face directory with a pretrained text tower (e.g. PubMedBERT) and "
        "its tokenizer; without it the tower is built from the model config with a "
        "WordPiece vocabulary trained on the build's training captions",
    )
    # --- schedule ---
    steps: int | None = _opt(None, "optimizer steps; default: --epochs over the train split")
    epochs: float = _opt(32.0, "epochs over the train split, when --steps is not given")
    batch_size: int = _opt(4096, "global contrastive batch (all ranks and accumulation steps)")
    accum_freq: int = _opt(1, "micro-batches per optimizer step (features cached, open_clip style)")
    lr: float = _opt(5e-4, "peak learning rate")
    warmup: int = _opt(2000, "linear warmup steps before the cosine decay")
    beta1: float = _opt(0.9, "AdamW beta1")
    beta2: float = _opt(0.98, "AdamW beta2")
    eps: float = _opt(1e-6, "AdamW epsilon")
    weight_decay: float = _opt(0.2, "AdamW weight decay (not on gains, biases, temperature)")
    grad_clip_norm: float | None = _opt(None, "clip the gradient norm to this value")
    stop_at_step: int | None = _opt(
        None,
        "end this invocation after this step with a checkpoint, leaving the schedule as it "
        "is (for time-limited jobs); continue with --resume",
    )
    # --- model ---
    image_size: int | None = _opt(None, "override the model config's image size")
    context_length: int | None = _opt(None, "override the model config's text context length")
    patch_dropout: float = _opt(0.0, "fraction of image patches dropped in training")
    grad_checkpointing: bool = _opt(True, "gradient checkpointing in both towers")
    precision: str = _opt(
        "auto", "fp32, or bf16 autocast; auto = bf16 on CUDA, fp32 on CPU", choices=PRECISIONS
    )
    crop_scale: tuple[float, float] = _opt(
        (0.9, 1.0), "RandomResizedCrop area range (open_clip's default)", nargs=2
    )
    local_loss: bool = _opt(True, "each rank scores its own rows against the gathered batch")
    gather_with_grad: bool = _opt(True, "backpropagate through the feature all-gather")
    # --- data ---
    workers: int | None = _opt(
        None,
        "data loader worker processes per rank (decode and augment); default: auto, from the "
        "cores each rank has (cores - 1 beside a GPU, half of them on the CPU, at most 8), "
        "fewer when the train split is too small to give each a share",
    )
    shuffle_buffer: int = _opt(1000, "samples shuffled together within a shard")
    tokenizer_max_captions: int = _opt(
        2_000_000, "training captions read to learn the WordPiece vocabulary"
    )
    # --- run ---
    seed: int = _opt(0, "seed of model init, data order and augmentation")
    device: str | None = _opt(None, "cpu or cuda; default: cuda when available")
    save_every: int = _opt(1000, "checkpoint every N steps (and at the end)")
    keep_checkpoints: int = _opt(2, "checkpoints kept in RUN_DIR/checkpoints")
    log_every: int = _opt(10, "log every N steps")
    progress: bool = _opt(True, "show a tqdm progress bar")
    resume: bool = _opt(False, "continue the run in --output from its latest checkpoint")

    # Options that define the model or the data stream; a resumed run keeps the saved ones.
    FIXED_ON_RESUME: typing.ClassVar[tuple[str, ...]] = (
        "model",
        "text_tower",
        "image_size",
        "context_length",
        "patch_dropout",
        "seed",
        "shuffle_buffer",
    )

    sources: dict[str, str] = field(
        default_factory=dict, init=False, repr=False, compare=False, metadata={"help": ""}
    )

    def __post_init__(self) -> None:
        recipe = None
        for f in option_fields():
            if getattr(self, f.name) is not UNSET:
                self.sources[f.name] = GIVEN
                continue
            if f.name in PRESET_OPTIONS:
                recipe = preset_recipe(self.model) if recipe is None else recipe
                if f.name in recipe:
                    setattr(self, f.name, recipe[f.name])
                    self.sources[f.name] = f"preset {self.model}"
                    continue
            setattr(self, f.name, copy.copy(f.metadata["default"]))
            self.sources[f.name] = DEFAULT
        self._check()

    def _check(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {self.precision!r}")
        for name in ("batch_size", "accum_freq", "save_every", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.steps is not None and self.steps < 1:
            raise ValueError("steps must be at least 1")
        if (self.workers is not None and self.workers < 0) or self.warmup < 0:
            raise ValueError("workers and warmup must be >= 0")
        if self.shuffle_buffer < 1 or self.epochs <= 0:
            raise ValueError("shuffle_buffer must be >= 1 and epochs > 0")
        if not 0.0 <= self.patch_dropout < 1.0:
            raise ValueError("patch_dropout must be in [0, 1)")
        lo, hi = self.crop_scale
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError("crop_scale must satisfy 0 < min <= max <= 1")
        self.crop_scale = (float(lo), float(hi))

    def to_dict(self) -> dict:
        out = {f.name: copy.copy(getattr(self, f.name)) for f in option_fields()}
        out["crop_scale"] = list(self.crop_scale)
        return out

    @classmethod
    def from_dict(cls, values: dict, sources: dict | None = None) -> TrainConfig:
        """A saved config (every value given), with the sources it was saved with."""
        known = {f.name for f in option_fields()}
        config = cls(**{k: v for k, v in values.items() if k in known})
        config.sources.update({k: v for k, v in (sources or {}).items() if k in known})
        return config

    def describe(self, names=RECIPE_SUMMARY) -> str:
        """'name=value (source), ...' for the log."""
        shown = {n: getattr(self, n) for n in names}
        if "workers" in shown and shown["workers"] is None:
            shown["workers"] = "auto"
        return ", ".join(f"{n}={v} ({self.sources[n]})" for n, v in shown.items())


def option_fields():
    return [f for f in fields(TrainConfig) if f.name != "sources"]


# Options a preset's recipe may not set: what the run is, where it goes, this invocation.
# (and steps: a preset is for data of any size; its length is --epochs).
NOT_IN_RECIPES = (
    "data",
    "output",
    "model",
    "text_tower",
    "resume",
    "stop_at_step",
    "device",
    "progress",
    "steps",
)
PRESET_OPTIONS = tuple(f.name for f in option_fields() if f.name not in NOT_IN_RECIPES)
# Options that belong to one invocation: a resumed run takes them as asked, never as saved.
PER_INVOCATION = ("data", "output", "resume", "stop_at_step", "device", "progress")


# --- command line ----------------------------------------------------------------------------


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _preset_values(name: str) -> str:
    """'; preset tiny: 64' for the shipped presets whose recipe sets this option."""
    out = ""
    for preset in model_config_names():
        recipe = preset_recipe(preset)
        if name in recipe:
            value = recipe[name]
            value = " ".join(map(str, value)) if isinstance(value, list) else value
            out += f"; preset {preset}: {value}"
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per TrainConfig field (bools get --x / --no-x). An option not given is
    left out of the namespace (argparse.SUPPRESS), so that the preset's recipe can fill it."""
    hints = typing.get_type_hints(TrainConfig)
    for f in option_fields():
        kind = hints[f.name]
        kwargs: dict = {"dest": f.name, "help": f.metadata["help"]}
        if "default" not in f.metadata:
            kwargs["required"] = True
        else:
            kwargs["default"] = argparse.SUPPRESS
            default = f.metadata["default"]
            shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
            note = f"default: {shown}" if default is not None else ""
            note += _preset_values(f.name)
            if note:
                kwargs["help"] += f" ({note.removeprefix('; ')})"
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            base = [a for a in typing.get_args(kind) if a is not type(None)] or [kind]
            scalar = base[0]
            if typing.get_origin(scalar) is tuple:
                scalar = typing.get_args(scalar)[0]
            kwargs["type"] = scalar
            for extra in ("choices", "nargs"):
                if extra in f.metadata:
                    kwargs[extra] = f.metadata[extra]
            kwargs["metavar"] = f.name.upper()
        parser.add_argument(_flag(f.name), **kwargs)


def from_args(args: argparse.Namespace) -> TrainConfig:
    """The config of the options given on the command line; the rest as the preset says."""
    given = {f.name: getattr(args, f.name) for f in option_fields() if hasattr(args, f.name)}
    if isinstance(given.get("crop_scale"), list):
        given["crop_scale"] = tuple(given["crop_scale"])
    return TrainConfig(**given)


def to_argv(config: TrainConfig) -> list[str]:
    """The command-line arguments that reproduce `config` (used to launch torchrun ranks)."""
    argv: list[str] = []
    for f in option_fields():
        value = getattr(config, f.name)
        if isinstance(value, bool):
            argv.append(_flag(f.name) if value else "--no-" + f.name.replace("_", "-"))
        elif value is None:
            continue
        elif isinstance(value, tuple):
            argv += [_flag(f.name), *map(str, value)]
        else:
            argv += [_flag(f.name), str(value)]
    return argv
