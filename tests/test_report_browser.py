"""The data card in a real browser: Debian's headless Chromium, driven by playwright, opens
card/index.html from disk. Nothing may be logged as an error, no request may fail or leave
file://, every image must decode, and a screenshot is taken (and checked to be a real one).

Skipped when /usr/bin/chromium is absent (install it with
`apt-get install -y chromium`); playwright's own browsers are not used.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.report_build import PER_SPLIT, built_output, hostile_copy
from lxml import html as lxml_html
from PIL import Image

from pmc_pipeline.report import write_card

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# For each <img>: loaded and decoded (naturalWidth is 0 for a missing or broken image).
BROKEN_IMAGES = "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    with sync_api.sync_playwright() as playwright:
        # playwright starts it with a fresh temporary profile (user data dir) of its own.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def visit(browser, index: Path, screenshot: Path) -> dict:
    """Open the card, take a viewport screenshot; what the page logged, requested, showed."""
    seen = {"errors": [], "failed": [], "requests": [], "dialogs": []}
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
        page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
        page.on("requestfailed", lambda r: seen["failed"].append(f"{r.url} {r.failure}"))
        page.on("request", lambda r: seen["requests"].append(r.url))
        page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
        page.goto(index.as_uri(), wait_until="load")
        page.screenshot(path=str(screenshot))
        seen["images"] = page.eval_on_selector_all("img", "imgs => imgs.length")
        seen["broken"] = page.eval_on_selector_all("img", BROKEN_IMAGES)
        seen["title"] = page.title()
    finally:
        context.close()
    return seen


def assert_clean_visit(seen: dict) -> None:
    assert seen["errors"] == []
    assert seen["failed"] == []
    assert seen["dialogs"] == []
    assert [url for url in seen["requests"] if not url.startswith("file://")] == []
    assert seen["broken"] == []


def assert_screenshot(path: Path) -> None:
    assert path.stat().st_size > 10_000
    with Image.open(path) as shot:
        assert shot.format == "PNG"
        assert shot.size == (VIEWPORT["width"], VIEWPORT["height"])
        lows, highs = zip(*shot.convert("RGB").getextrema(), strict=True)
        assert max(highs) - min(lows) > 100  # not a blank page


def test_card_renders_in_headless_chromium(browser, tmp_path_factory, tmp_path):
    build = built_output(tmp_path_factory.getbasetemp())
    index = write_card(build, tmp_path / "card", per_split=PER_SPLIT)
    seen = visit(browser, index, tmp_path / "card.png")
    assert_clean_visit(seen)
    # Every <img> of the page was counted (a figure in the gallery and a cluster: twice).
    assert seen["images"] == len(lxml_html.fromstring(index.read_bytes()).xpath("//img")) > 9
    assert seen["title"].startswith("Data card")
    assert_screenshot(tmp_path / "card.png")


def test_hostile_captions_run_nothing_and_load_nothing(browser, tmp_path_factory, tmp_path):
    build = built_output(tmp_path_factory.getbasetemp())
    index = write_card(hostile_copy(build, tmp_path / "out"), per_split=4)
    seen = visit(browser, index, tmp_path / "hostile.png")
    assert_clean_visit(seen)
    assert_screenshot(tmp_path / "hostile.png")
