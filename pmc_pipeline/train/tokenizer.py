"""The text tower's tokenizer and, when no pretrained tower is given, the tower's config.

BiomedCLIP's text tower is PubMedBERT: a BERT with an uncased WordPiece vocabulary learnt
from PubMed. A run that has PubMedBERT on disk uses it as is (`--text-tower DIR`). A run
without it learns a WordPiece vocabulary of the same kind from the build's training
captions (with `tokenizers`) and describes a randomly initialised BERT of the model config's
shape; both are saved in the run as a Hugging Face directory, so neither training nor the
export ever needs the network.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

# The special tokens, by the role Hugging Face tokenizers give them; in this order they take
# the ids 0 to 4.
TOKEN_ROLES = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}
SPECIAL_TOKENS = tuple(TOKEN_ROLES.values())

# Files of a Hugging Face text tower that describe it without its weights.
TOWER_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)


def train_wordpiece(captions: Iterable[str], vocab_size: int, min_frequency: int = 2):
    """An uncased BERT WordPiece tokenizer (tokenizers.Tokenizer) learnt from captions; it
    adds [CLS] ... [SEP] like BERT's."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import WordPieceTrainer

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        show_progress=False,
    )
    tokenizer.train_from_iterator(captions, trainer=trainer)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return tokenizer


def save_tokenizer(tokenizer, directory: Path, context_length: int) -> int:
    """Save a tokenizers.Tokenizer as a Hugging Face tokenizer directory (loadable with
    AutoTokenizer, hence by open_clip's HFTokenizer). Returns the pad token id."""
    from transformers import PreTrainedTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, model_max_length=context_length, **TOKEN_ROLES
    )
    wrapped.save_pretrained(str(directory))
    # vocab.txt as BERT has it, for tools that read the vocabulary directly.
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    (directory / "vocab.txt").write_text("".join(t + "\n" for t, _ in vocab), encoding="utf-8")
    return wrapped.pad_token_id


def bert_config(text_cfg: dict, vocab_size: int, pad_token_id: int):
    """A transformers.BertConfig of the shape the open_clip text_cfg describes (width, heads,
    layers, mlp_ratio), with positions for the context length."""
    from transformers import BertConfig

    width = int(text_cfg["width"])
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=width,
        num_hidden_layers=int(text_cfg["layers"]),
        num_attention_heads=int(text_cfg["heads"]),
        intermediate_size=int(width * float(text_cfg.get("mlp_ratio", 4.0))),
        max_position_embeddings=int(text_cfg["context_length"]),
        pad_token_id=pad_token_id,
    )


def build_text_tower(directory: Path, captions: Iterable[str], text_cfg: dict) -> int:
    """Write a text tower directory (WordPiece tokenizer learnt from `captions` and a BERT
    config of text_cfg's shape). Returns the learnt vocabulary size."""
    tokenizer = train_wordpiece(captions, vocab_size=int(text_cfg["vocab_size"]))
    vocab_size = tokenizer.get_vocab_size()
    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError("no caption text to learn a vocabulary from (is the train split empty?)")
    pad_id = save_tokenizer(tokenizer, directory, int(text_cfg["context_length"]))
    bert_config(text_cfg, vocab_size, pad_id).save_pretrained(str(directory))
    return vocab_size


def check_text_tower(directory: Path) -> bool:
    """Validate a user-supplied Hugging Face text tower; True when it holds weights."""
    if not (directory / "config.json").is_file():
        raise ValueError(f"text tower {directory} has no config.json")
    if not any((directory / name).is_file() for name in ("tokenizer.json", "vocab.txt")):
        raise ValueError(f"text tower {directory} has no tokenizer (tokenizer.json or vocab.txt)")
    from open_clip.hf_configs import arch_dict

    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") not in arch_dict:
        raise ValueError(
            f"text tower {directory}: model_type {config.get('model_type')!r} is not one "
            f"open_clip can use as a text tower ({', '.join(sorted(arch_dict))})"
        )
    weights = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")
    return any((directory / name).is_file() for name in weights)


def copy_tower_files(source: Path, destination: Path) -> None:
    """Copy the weight-free description of a text tower (config, tokenizer files)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in TOWER_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, destination / name)


def load_tokenizer(directory: Path | str, context_length: int):
    """open_clip's HFTokenizer over a local tokenizer directory (no network)."""
    from open_clip.tokenizer import HFTokenizer

    return HFTokenizer(str(directory), context_length=context_length)
