"""pmc_pipeline.filters: every reason, its order, the options' validation, and the defaults
against the real fixtures they were chosen from."""

from __future__ import annotations

import dataclasses
import json

import pytest
from helpers.paths import PROJECT_ROOT, shared_fixture

from pmc_pipeline import filters
from pmc_pipeline.filters import (
    FilterOptions,
    article_drop_reason,
    caption_tokens,
    figure_drop_reason,
    figure_status,
)
from pmc_pipeline.images import ProcessedImage, process_image
from pmc_pipeline.licenses import COMMERCIAL_USE
from pmc_pipeline.model import Article, Figure, FigureKind, FigureStatus, License

CAPTION = "Kaplan-Meier survival curves of the two treatment arms."


def image(width: int, height: int) -> ProcessedImage:
    return ProcessedImage(b"", width, height, width, height, "JPEG", "RGB", "0" * 64, "0" * 16)


def figure(caption: str = CAPTION, kind: str = FigureKind.FIGURE) -> Figure:
    return Figure(id="F1", index=1, kind=kind, caption=caption)


# --- captions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, 0),
        ("", 0),
        ("   ", 0),
        ("Box figure", 2),
        ("Fig. 1 (A) CT scan", 5),
        ("word\u00a0joined\u2009by\tspaces\nand lines", 6),  # NBSP and thin space split too
    ],
)
def test_caption_tokens(text, expected):
    assert caption_tokens(text) == expected


def test_caption_range():
    opts = FilterOptions(min_caption_tokens=3, max_caption_tokens=5)
    assert figure_drop_reason(figure("two words"), image(500, 500), opts) == "caption_too_short"
    assert figure_drop_reason(figure("now three words"), image(500, 500), opts) is None
    assert figure_drop_reason(figure("one two three four five"), image(500, 500), opts) is None
    assert figure_drop_reason(figure("a b c d e f"), image(500, 500), opts) == "caption_too_long"
    unbounded = FilterOptions(max_caption_tokens=None)
    assert figure_drop_reason(figure("w " * 100_000), image(500, 500), unbounded) is None


# --- image rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((128, 128), None),
        ((127, 900), "min_side"),
        ((900, 127), "min_side"),
        ((1280, 128), None),  # exactly 10:1
        ((1281, 128), "aspect_ratio"),
        ((128, 1281), "aspect_ratio"),
    ],
)
def test_image_rules_at_their_boundaries(size, expected):
    assert figure_drop_reason(figure(), image(*size), FilterOptions()) == expected


def test_image_rules_use_the_original_size():
    resized = ProcessedImage(b"", 1024, 100, 4000, 390, "JPEG", "RGB", "0" * 64, "0" * 16)
    assert figure_drop_reason(figure(), resized, FilterOptions()) == "aspect_ratio"
    opts = FilterOptions(max_aspect_ratio=20)
    assert figure_drop_reason(figure(), resized, opts) is None  # short side 390, not 100


def test_no_image_comes_after_the_rules_that_need_none():
    opts = FilterOptions()
    assert figure_drop_reason(figure(), None, opts) == "no_image"
    assert figure_drop_reason(figure("short"), None, opts) == "caption_too_short"
    table = figure(kind=FigureKind.TABLE)
    assert figure_drop_reason(table, None, opts) == "table_excluded"


def test_tables_on_and_off():
    table = figure(kind=FigureKind.TABLE)
    assert figure_drop_reason(table, image(600, 400), FilterOptions()) == "table_excluded"
    assert figure_drop_reason(table, image(600, 400), FilterOptions(include_tables=True)) is None


def test_reason_order_is_cheapest_first():
    tiny_table = figure("x", kind=FigureKind.TABLE)
    assert figure_drop_reason(tiny_table, image(2, 200), FilterOptions()) == "table_excluded"
    assert figure_drop_reason(figure("x"), image(2, 200), FilterOptions()) == "caption_too_short"


def test_reasons_map_to_statuses():
    assert figure_status(filters.NO_IMAGE) == FigureStatus.IMAGE_FAILED
    for reason in set(filters.FIGURE_REASONS) - {filters.NO_IMAGE}:
        assert figure_status(reason) == FigureStatus.FILTERED


# --- article rules --------------------------------------------------------------------------------


def article(article_type="research-article", code="CC BY", url=None, text=None) -> Article:
    return Article(article_type=article_type, license=License(code=code, url=url, text=text))


def test_all_articles_pass_the_defaults():
    assert article_drop_reason(article(article_type=None, code=None), FilterOptions()) is None


def test_article_type_allowlist():
    opts = FilterOptions(article_types={"Research-Article ", "case-report"})
    assert opts.article_types == frozenset({"research-article", "case-report"})
    assert article_drop_reason(article("research-article"), opts) is None
    assert article_drop_reason(article("CASE-REPORT"), opts) is None
    assert article_drop_reason(article("editorial"), opts) == "article_type_not_allowed:editorial"
    assert article_drop_reason(article(None), opts) == "article_type_not_allowed:unknown"


def test_license_allowlist():
    opts = FilterOptions(licenses=COMMERCIAL_USE)
    assert article_drop_reason(article(code="CC BY"), opts) is None
    assert (
        article_drop_reason(article(code="CC BY-NC-ND"), opts) == "license_not_allowed:CC BY-NC-ND"
    )
    # Unreadable in the XML: PMC's licence metadata decides (sources/selection.py).
    assert article_drop_reason(article(code=None), opts) is None
    # A licence the parser left un-coded is still read from the URL or the prose.
    by_url = article(code=None, url="https://creativecommons.org/licenses/by/4.0/")
    assert article_drop_reason(by_url, opts) is None
    by_text = article(code=None, text="This is an open access article under the CC BY-NC licence.")
    assert article_drop_reason(by_text, opts) == "license_not_allowed:CC BY-NC"


def test_license_allowlist_is_normalised():
    opts = FilterOptions(licenses=["cc-by", "http://creativecommons.org/publicdomain/zero/1.0/"])
    assert opts.licenses == frozenset({"CC BY", "CC0"})
    with pytest.raises(ValueError, match="unknown licence"):
        FilterOptions(licenses=["free for all"])
    with pytest.raises(TypeError):
        FilterOptions(licenses="CC BY")


# --- options ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"min_side": -1},
        {"max_aspect_ratio": 0.5},
        {"max_aspect_ratio": float("nan")},
        {"min_caption_tokens": -1},
        {"min_caption_tokens": 10, "max_caption_tokens": 5},
    ],
)
def test_invalid_options(bad):
    with pytest.raises(ValueError):
        FilterOptions(**bad)


def test_options_are_frozen_and_serialisable():
    opts = FilterOptions(licenses={"CC BY"}, article_types={"review-article"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.min_side = 1
    assert dataclasses.asdict(opts)["licenses"] == frozenset({"CC BY"})
    assert opts == FilterOptions(licenses=["cc by"], article_types=["REVIEW-ARTICLE"])


def test_every_reason_is_documented():
    doc = (PROJECT_ROOT / "docs" / "filters.md").read_text(encoding="utf-8")
    for reason in filters.ARTICLE_REASONS + filters.FIGURE_REASONS:
        assert f"`{reason}" in doc, reason
    for reason in ("retracted", "not_open_access"):  # decided in sources/selection.py
        assert f"`{reason}`" in doc, reason


# --- the defaults against the real data they were chosen from ------------------------------------


def test_default_min_side_drops_thumbnails_and_keeps_full_figures():
    opts = FilterOptions()
    root = shared_fixture("images", "pmc")
    for path in sorted(root.glob("*/*.jpg")) + sorted(root.glob("*/*.gif")):
        result = process_image(path.read_bytes())
        reason = figure_drop_reason(figure(), result, opts)
        if path.suffix == ".jpg":
            assert reason is None, path.name
        else:  # thumbnails and inline-formula graphics
            assert reason in ("min_side", "aspect_ratio"), path.name


def test_default_caption_range_on_real_captions():
    expected = json.loads(shared_fixture("jats", "expected.json").read_text())["files"]
    captions = [fig["caption"] or "" for entry in expected.values() for fig in entry["figs"]]
    reasons = [figure_drop_reason(figure(c), image(500, 500), FilterOptions()) for c in captions]
    assert len(captions) == 311
    # Only the empty captions and 'Box figure' (eLife) are too short; none is too long.
    assert reasons.count("caption_too_short") == 5
    assert "caption_too_long" not in reasons


# --- figure types -----------------------------------------------------------------------------


def test_figure_type_allowlist_keeps_a_figure_with_any_allowed_type():
    opts = FilterOptions(figure_types=frozenset({"Radiology", " chart"}))
    assert opts.figure_types == {"radiology", "chart"}
    blot = figure("(A) Western blot of p53. (B) Quantification of band intensity.")
    assert figure_drop_reason(blot, None, opts) == filters.NO_IMAGE  # chart is allowed
    photo = figure("Photograph of the excised tumour after surgery.")
    reason = figure_drop_reason(photo, None, opts)
    assert reason == "figure_type_not_allowed:photograph"
    assert filters.figure_status(reason) == FigureStatus.FILTERED
    screenshot = figure("A screenshot of the settings window of the program.")
    assert figure_drop_reason(screenshot, None, opts) == "figure_type_not_allowed:other"
    assert figure_drop_reason(screenshot, None, FilterOptions()) == filters.NO_IMAGE
    # A caption that names no kind of figure has no type: no allowlist keeps it.
    untyped = figure("Climate forcings employed in our six main scenarios.")
    assert figure_drop_reason(untyped, None, opts) == "figure_type_not_allowed:untyped"
    assert figure_drop_reason(untyped, None, FilterOptions()) == filters.NO_IMAGE


def test_figure_type_rule_comes_after_caption_length():
    opts = FilterOptions(figure_types=frozenset({"radiology"}))
    assert figure_drop_reason(figure("Photo"), None, opts) == filters.CAPTION_TOO_SHORT


def test_unknown_figure_types_are_an_error_that_lists_the_taxonomy():
    with pytest.raises(ValueError, match="unknown figure type.*xray.*radiology, light_microscopy"):
        FilterOptions(figure_types=frozenset({"xray", "chart"}))
    with pytest.raises(ValueError, match="none given"):
        FilterOptions(figure_types=frozenset({" "}))
