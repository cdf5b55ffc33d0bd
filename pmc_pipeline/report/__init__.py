"""The data card of a build: `write_card(OUTPUT)` -> OUTPUT/card/index.html.

A static page (no script, nothing loaded from the network) with the funnel from articles
listed to pairs kept and every drop reason (from stats.json), charts of the published pairs
(from the Parquet tables), a gallery of random pairs per split, and the duplicate clusters
that dedupe removed. docs/report.md explains how to read it.

Modules, in the order the card uses them: data (stats.json and Parquet), charts (what each
chart shows), plots (matplotlib PNGs), gallery and clusters (what is shown), jpegs (where
images are read from), thumbs (thumbnails), html (the page), card (write_card).
"""

from pmc_pipeline.report.card import write_card
from pmc_pipeline.report.data import ReportError

__all__ = ["ReportError", "write_card"]
