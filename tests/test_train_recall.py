"""Retrieval recall@k: exact on known embeddings, chance on shuffled ones, fair on ties."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub

torch = pytest.importorskip("torch")

from pmc_pipeline.train.evaluate import match_ranks, recall_at, retrieval_recall  # noqa: E402

KEYS = ("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10")


def test_each_image_equal_to_its_caption_gives_perfect_recall():
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(500, 32, generator=g)
    result = retrieval_recall(emb, emb.clone())
    assert result["n"] == 500
    assert all(result[k] == 1.0 for k in KEYS)


def test_shuffled_pairs_give_chance_level():
    g = torch.Generator().manual_seed(1)
    n = 2000
    images = torch.randn(n, 64, generator=g)
    texts = images[torch.randperm(n, generator=g)]  # every caption belongs to another image
    result = retrieval_recall(images, texts)
    for direction in ("i2t", "t2i"):
        for k in (1, 5, 10):
            chance = k / n
            # binomial standard error of a mean over n queries; 5 sigma, plus the at most one
            # query that the permutation left in place
            tolerance = 5 * (chance * (1 - chance) / n) ** 0.5 + 1 / n
            assert abs(result[f"{direction}_r{k}"] - chance) <= tolerance


def test_recall_counts_rank_below_k():
    # query 0 matches key 0 best; query 1 has key 1 in second place; query 2's key is last
    images = torch.tensor([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.6, 0.8, 0.0]])
    texts = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    higher, ties = match_ranks(images, texts)
    assert higher.tolist() == [0, 1, 2]
    assert ties.tolist() == [0, 0, 0]
    assert recall_at(higher, ties, 1) == pytest.approx(1 / 3)
    assert recall_at(higher, ties, 2) == pytest.approx(2 / 3)
    assert recall_at(higher, ties, 3) == pytest.approx(1.0)


def test_collapsed_embeddings_score_chance_not_perfect():
    same = torch.ones(100, 8)
    result = retrieval_recall(same, same.clone())
    assert result["i2t_r1"] == pytest.approx(1 / 100)
    assert result["t2i_r10"] == pytest.approx(10 / 100)


def test_duplicate_captions_split_the_credit():
    images = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    texts = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # two identical captions
    result = retrieval_recall(images, texts)
    # images 0 and 1 each tie between the two identical captions: half a hit at k=1
    assert result["i2t_r1"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert result["i2t_r5"] == 1.0


def test_chunked_ranks_equal_unchunked():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(300, 16, generator=g), torch.randn(300, 16, generator=g)
    full = match_ranks(a, b, chunk=10_000)
    chunked = match_ranks(a, b, chunk=7)
    assert torch.equal(full[0], chunked[0]) and torch.equal(full[1], chunked[1])


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        retrieval_recall(torch.zeros(3, 4), torch.zeros(2, 4))
