"""Hub-ready files of a build: the dataset cards a Hugging Face dataset repository shows and
`datasets.load_dataset` reads, and an MLCommons Croissant description.

    write_hub_files(Output("build/pmc"), stats) -> ["README.md", "webdataset/README.md",
                                                    "croissant.json"]

- OUTPUT/README.md: YAML header (configs `pairs` (default), `figures`, `articles` over the
  Parquet tables, typed features from schemas/, splits, `license: other`) and a datasheet
  (motivation, composition, collection, licence mix with the NC/ND share, uses, known
  limitations, fields, citation).
- OUTPUT/webdataset/README.md: the shards as a dataset of their own, features declared.
- OUTPUT/croissant.json: Croissant 1.0 (distribution and typed record sets).

Inputs are the published files and stats.json's content; the same build gives the same
bytes (no clock is read). See docs/hub.md.
"""

from __future__ import annotations

import json

from pmc_pipeline.hub import card
from pmc_pipeline.hub.croissant import croissant
from pmc_pipeline.hub.facts import BuildFacts, gather
from pmc_pipeline.hub.features import webdataset_features
from pmc_pipeline.manifest import STATS_FILE
from pmc_pipeline.outputs import Output

README = "README.md"
WEBDATASET_README = card.WEBDATASET_README
CROISSANT = "croissant.json"

__all__ = ["write_hub_files", "webdataset_features", "gather", "BuildFacts"]

DESCRIPTION = (
    "Biomedical figure-caption pairs from the PubMed Central Open Access subset, built with "
    "pmc_pipeline: WebDataset shards (image, caption, pair record) for training and Parquet "
    "tables of every pair, every figure seen and every article listed, each with its status "
    "and reason. Each pair keeps its article's licence."
)


def write_hub_files(output: Output, stats: dict) -> list[str]:
    """Write README.md, webdataset/README.md and croissant.json for the build at `output`
    whose stats.json holds `stats`; returns their paths relative to OUTPUT."""
    facts = gather(output, stats)
    output.write_bytes(README, card.top_card(facts).encode("utf-8"))
    output.write_bytes(WEBDATASET_README, card.webdataset_card(facts).encode("utf-8"))
    if not output.exists(STATS_FILE):
        raise FileNotFoundError(f"{output.path(STATS_FILE)} not found: is this a finished build?")
    stats_bytes = output.read_bytes(STATS_FILE)
    doc = croissant(
        facts,
        name=card.PRETTY_NAME,
        description=DESCRIPTION,
        license_url=card.LICENSE_LINK,
        cite_as=card.citation(facts),
        keywords=card.TAGS,
        stats_bytes=stats_bytes,
    )
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    output.write_bytes(CROISSANT, text.encode("utf-8"))
    return [README, WEBDATASET_README, CROISSANT]
