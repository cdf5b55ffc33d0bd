"""The Beam job's Dedupe transform (beam_jobs/transforms.py) decides what the library decides:
on the same items, run through a real pipeline (DirectRunner), every candidate gets the
decision that dedupe.contamination_reason and dedupe.dedupe give, with exact and near
duplicates, chains of them, contamination by pixels and by phash, items in any order, near
dedupe on and off, decided in one place and stage by stage."""

from __future__ import annotations

import random

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to
from helpers.dedupe_items import clustered_items, flip

from beam_jobs.transforms import Dedupe
from pmc_pipeline import dedupe
from pmc_pipeline.assemble import AssembleOptions
from pmc_pipeline.dedupe import Item
from pmc_pipeline.model import FigureStatus, article_key_of


def contamination_list(items: list[Item], rng: random.Random, threshold: int) -> frozenset[str]:
    """Hashes of an evaluation set: some items' pixels, and phashes a few bits from some
    others' (within the threshold)."""
    pixels = {it.pixel_sha256 for it in rng.sample(items, 6)}
    phashes = {flip(it.phash, rng.sample(range(64), threshold)) for it in rng.sample(items, 6)}
    return frozenset(pixels | phashes)


def library_decisions(
    items: list[Item], hashes: frozenset[str], threshold: int | None
) -> dict[str, tuple | None]:
    """{key: (status, reason, duplicate_of), or None when kept}, from the library alone:
    contamination first, then dedupe of the clean items."""
    decisions: dict[str, tuple | None] = {}
    clean = []
    for it in items:
        reason = dedupe.contamination_reason(it, hashes, threshold)
        if reason:
            decisions[it.key] = (FigureStatus.CONTAMINATED, reason, None)
        else:
            clean.append(it)
    for key, (status, duplicate_of) in dedupe.dedupe(clean, threshold).items():
        kept = status == FigureStatus.KEPT
        decisions[key] = None if kept else (status, dedupe.reason_of(status), duplicate_of)
    return decisions


@pytest.mark.parametrize("threshold", [4, None])
@pytest.mark.parametrize("expected_items", [100, None])  # in one place; stage by stage
def test_the_beam_dedupe_decides_as_the_library(threshold, expected_items):
    rng = random.Random(7)
    items = clustered_items(rng, 240, 4)
    hashes = contamination_list(items, rng, 4)
    decisions = library_decisions(items, hashes, threshold)
    # Every kind of decision is among them.
    statuses = {d[0] for d in decisions.values() if d}
    assert {FigureStatus.DUPLICATE, FigureStatus.CONTAMINATED} <= statuses
    assert None in decisions.values()
    if threshold is not None:
        assert FigureStatus.NEAR_DUPLICATE in statuses
        assert dedupe.CONTAMINATED_NEAR in {d[1] for d in decisions.values() if d}
    expected = [(article_key_of(key), (key, d)) for key, d in decisions.items()]

    rng.shuffle(items)  # arrival order must not matter
    opts = AssembleOptions(decontaminate=hashes, near_threshold=threshold)
    with test_pipeline.TestPipeline() as pipeline:
        got = pipeline | beam.Create(items) | Dedupe(opts, expected_items)
        assert_that(got, equal_to(expected))
