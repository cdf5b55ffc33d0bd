"""The text tower built from captions: an uncased BERT WordPiece tokenizer and a BERT config,
loadable offline by transformers and by open_clip's HFTokenizer."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub

pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

from pmc_pipeline.train.tokenizer import (  # noqa: E402
    build_text_tower,
    check_text_tower,
    load_tokenizer,
)

CAPTIONS = [
    "Confocal micrograph of HeLa cells stained for KRAS (magenta). Scale bar, 45 µm.",
    "Western blot of TNF in treated and untreated rats.",
    "Kaplan-Meier survival curves of patients in the discovery cohort.",
] * 20
TEXT_CFG = {"vocab_size": 400, "context_length": 24, "width": 32, "heads": 2, "layers": 1}


@pytest.fixture(scope="module")
def tower(tmp_path_factory):
    path = tmp_path_factory.mktemp("tower")
    vocab_size = build_text_tower(path, CAPTIONS, TEXT_CFG)
    return path, vocab_size


def test_the_tower_directory_describes_a_bert_of_the_config_shape(tower):
    path, vocab_size = tower
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert (config["hidden_size"], config["num_hidden_layers"]) == (32, 1)
    assert config["num_attention_heads"] == 2 and config["intermediate_size"] == 128
    assert config["max_position_embeddings"] == 24 and config["vocab_size"] == vocab_size
    vocab = (path / "vocab.txt").read_text().splitlines()
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(vocab) == vocab_size <= 400
    assert check_text_tower(path) is False  # a config, no weights


def test_captions_tokenize_uncased_with_cls_sep_and_padding(tower):
    path, _ = tower
    tokenizer = load_tokenizer(path, 24)
    ids = tokenizer(["Western blot of TNF", "western BLOT of tnf", "western blot " * 50])
    assert ids.shape == (3, 24)
    assert ids[0].tolist() == ids[1].tolist()  # uncased, like PubMedBERT
    row = ids[0].tolist()
    assert row[0] == 2 and 3 in row and row[-1] == 0  # [CLS] ... [SEP] [PAD]...
    assert 1 not in row  # every word is known: no [UNK]
    assert ids[2, -1].item() == 3  # a long caption is truncated, [SEP] kept


def test_a_text_tower_open_clip_cannot_use_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ValueError, match="open_clip can use"):
        check_text_tower(tmp_path)
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(ValueError, match="no tokenizer"):
        check_text_tower(tmp_path)


def test_an_empty_caption_set_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no caption text"):
        build_text_tower(tmp_path, [], TEXT_CFG)
