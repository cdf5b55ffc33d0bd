"""The Beam job's Dedupe transform (beam_jobs/transforms.py) decides what the library decides:
on the same items, run through a real pipeline (DirectRunner), every figure ends with the
status, reason and duplicate_of that dedupe.contamination_reason and dedupe.dedupe give,
with exact and near duplicates, chains of them, contamination by pixels and by phash, and
figures that were never candidates."""

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
from pmc_pipeline.model import FigureStatus

HEIGHT = 100  # clustered_items' priorities are priority(width, 100)
SPLIT = "train"


def figure_row(item: Item, status: str = FigureStatus.KEPT, reason: str | None = None) -> dict:
    """A staged figure row as Dedupe reads it (only candidates have status kept)."""
    return {
        "key": item.key,
        "pixel_sha256": item.pixel_sha256,
        "phash": item.phash,
        "orig_width": -item.priority[0] // HEIGHT,
        "orig_height": HEIGHT,
        "status": status,
        "reason": reason,
        "reason_detail": None,
        "duplicate_of": None,
    }


def contamination_list(items: list[Item], rng: random.Random, threshold: int) -> frozenset[str]:
    """Hashes of an evaluation set: some candidates' pixels, and phashes a few bits from
    some others' (within the threshold)."""
    pixels = {it.pixel_sha256 for it in rng.sample(items, 6)}
    phashes = {flip(it.phash, rng.sample(range(64), threshold)) for it in rng.sample(items, 6)}
    return frozenset(pixels | phashes)


def library_outcome(
    items: list[Item], others: list[Item], hashes: frozenset[str], threshold: int | None
) -> list[tuple]:
    """(key, status, reason, duplicate_of, split) of every figure, from the library alone:
    contamination first, then dedupe of the clean candidates; non-candidates unchanged."""
    outcome = []
    clean = []
    for it in items:
        reason = dedupe.contamination_reason(it, hashes, threshold)
        if reason:
            outcome.append((it.key, FigureStatus.CONTAMINATED, reason, None, None))
        else:
            clean.append(it)
    for key, (status, duplicate_of) in dedupe.dedupe(clean, threshold).items():
        if status == FigureStatus.KEPT:
            outcome.append((key, status, None, None, SPLIT))
        else:
            outcome.append((key, status, dedupe.reason_of(status), duplicate_of, None))
    outcome += [(it.key, FigureStatus.FILTERED, "min_side", None, None) for it in others]
    return outcome


@pytest.mark.parametrize("threshold", [4, None])
def test_the_beam_dedupe_decides_as_the_library(threshold):
    rng = random.Random(7)
    items = clustered_items(rng, 240, 4)
    candidates, others = items[:220], items[220:]
    hashes = contamination_list(candidates, rng, 4)
    expected = library_outcome(candidates, others, hashes, threshold)
    # What the test is about: every kind of decision is among them.
    statuses = {status for _, status, *_ in expected}
    assert {FigureStatus.KEPT, FigureStatus.DUPLICATE, FigureStatus.CONTAMINATED} <= statuses
    reasons = {reason for _, _, reason, *_ in expected}
    assert dedupe.CONTAMINATED_EXACT in reasons
    if threshold is not None:
        assert FigureStatus.NEAR_DUPLICATE in statuses and dedupe.CONTAMINATED_NEAR in reasons

    rows = [figure_row(it) for it in candidates]
    rows += [figure_row(it, FigureStatus.FILTERED, "min_side") for it in others]
    rng.shuffle(rows)  # arrival order must not matter
    opts = AssembleOptions(decontaminate=hashes, near_threshold=threshold)
    with test_pipeline.TestPipeline() as pipeline:
        decided = (
            pipeline
            | beam.Create([(row, {"split": SPLIT}) for row in rows])
            | Dedupe(opts)
            | beam.Map(
                lambda pair: (
                    pair[0]["key"],
                    pair[0]["status"],
                    pair[0]["reason"],
                    pair[0]["duplicate_of"],
                    pair[0]["split"],
                )
            )
        )
        assert_that(decided, equal_to(expected))
