"""The dataset cards: OUTPUT/README.md (the Parquet tables) and OUTPUT/webdataset/README.md
(the shards), each a Hugging Face YAML header followed by a datasheet in Markdown.

Why two cards: `datasets` picks one loader (Parquet, WebDataset, ...) for a whole dataset
folder, from the files of its first config, and runs every config with it (upstream issue
huggingface/datasets#7101); a card whose configs mix Parquet and .tar files loads only one
kind. So the top card declares the three Parquet tables and webdataset/ is a dataset folder
of its own, whose card declares the shards with typed features.

Everything in a card comes from the build's facts (pmc_pipeline.hub.facts) and the schemas;
no clock is read (a build date is shown only when stats.json records one).
"""

from __future__ import annotations

from typing import Any

import yaml

from pmc_pipeline.hub.facts import (
    FULL_SPLIT,
    UNKNOWN_LICENSE,
    BuildFacts,
    commercial_use,
    non_commercial_or_no_derivatives,
    split_order,
)
from pmc_pipeline.hub.features import (
    describe,
    fields_yaml,
    flat_fields,
    type_label,
    webdataset_features_yaml,
)
from pmc_pipeline.schemas_io import arrow_schema

PRETTY_NAME = "PMC Open Access figure-caption pairs"
LICENSE_NAME = "pmc-open-access-per-article"
LICENSE_LINK = "https://pmc.ncbi.nlm.nih.gov/tools/openftlist/"
TASKS = ["image-to-text", "zero-shot-image-classification", "text-to-image"]
TAGS = ["biology", "medical", "pubmed-central", "figure-caption", "image-text", "clip"]
WEBDATASET_README = "webdataset/README.md"

# config name -> (JSON Schema name, one line on what a row is)
TABLES = {
    "pairs": ("pair", "one row per kept pair: the sidecar of a shard sample, without the image"),
    "figures": ("figure", "one row per figure seen, kept or not, with its status and reason"),
    "articles": ("article_row", "one row per article listed, with its status and reason"),
}

CITATION = """\
@misc{pmc_pipeline_figure_captions,
  title        = {PMC Open Access figure-caption pairs, built with pmc\\_pipeline},
  note         = {Built from the PubMed Central Open Access subset; version %(version)s},
  howpublished = {Dataset card and croissant.json of the build},
}

@article{zhang2023biomedclip,
  title   = {BiomedCLIP: a multimodal biomedical foundation model pretrained from fifteen
             million scientific image-text pairs},
  author  = {Zhang, Sheng and others},
  journal = {arXiv preprint arXiv:2303.00915},
  year    = {2023},
}"""


SIZE_CATEGORIES = (
    (10**3, "n<1K"),
    (10**4, "1K<n<10K"),
    (10**5, "10K<n<100K"),
    (10**6, "100K<n<1M"),
    (10**7, "1M<n<10M"),
    (10**8, "10M<n<100M"),
    (10**9, "100M<n<1B"),
    (10**10, "1B<n<10B"),
)


def size_category(n: int) -> str:
    """The Hub's size_categories bucket of n rows."""
    return next((label for bound, label in SIZE_CATEGORIES if n < bound), "10B<n<100B")


def citation(facts: BuildFacts) -> str:
    version = (facts.stats.get("build") or {}).get("version") or "unrecorded"
    return CITATION % {"version": version}


def _split_info(name: str, part) -> dict:
    # num_bytes is the bytes of the published files (datasets requires the key; the size
    # of the Arrow table it would build is not known without building it).
    return {"name": name, "num_bytes": part.bytes, "num_examples": part.rows}


def _dataset_info(config: str, features: list, splits: dict) -> dict:
    size = sum(p.bytes for p in splits.values())
    return {
        "config_name": config,
        "features": features,
        "splits": [_split_info(name, part) for name, part in splits.items()],
        "download_size": size,
        "dataset_size": size,
    }


def _table_splits(facts: BuildFacts, config: str) -> dict:
    return facts.pairs if config == "pairs" else {FULL_SPLIT: getattr(facts, config)}


def top_header(facts: BuildFacts) -> dict:
    """The YAML header of OUTPUT/README.md: the three Parquet tables as configs, with typed
    features and splits, and the per-article licence as `other`."""
    configs, infos = [], []
    for config, (schema_name, _) in TABLES.items():
        splits = {s: p for s, p in _table_splits(facts, config).items() if p.files}
        if not splits:
            continue  # a table with no file (an empty build) cannot be loaded
        entry: dict[str, Any] = {"config_name": config}
        if config == "pairs":
            entry["default"] = True
        entry["data_files"] = [{"split": s, "path": p.pattern} for s, p in splits.items()]
        configs.append(entry)
        infos.append(_dataset_info(config, fields_yaml(arrow_schema(schema_name)), splits))
    header: dict[str, Any] = {
        "pretty_name": PRETTY_NAME,
        "license": "other",
        "license_name": LICENSE_NAME,
        "license_link": LICENSE_LINK,
        "language": ["en"],
        "task_categories": TASKS,
        "tags": TAGS,
        "size_categories": [size_category(facts.n_pairs)],
    }
    if configs:  # none only when the build listed no article at all
        header["configs"], header["dataset_info"] = configs, infos
    return header


def webdataset_header(facts: BuildFacts) -> dict:
    """The YAML header of webdataset/README.md: the shards per split (paths relative to
    webdataset/), with the sample's features declared."""
    splits = {s: p for s, p in facts.shards.items() if p.files}
    relative = {s: p.pattern.removeprefix("webdataset/") for s, p in splits.items()}
    header: dict[str, Any] = {
        "pretty_name": PRETTY_NAME + " (WebDataset shards)",
        "license": "other",
        "license_name": LICENSE_NAME,
        "license_link": LICENSE_LINK,
        "language": ["en"],
        "task_categories": TASKS,
        "tags": [*TAGS, "webdataset"],
        "size_categories": [size_category(facts.n_pairs)],
    }
    if splits:  # a build that kept no pair has no shard to declare
        data_files = [{"split": s, "path": relative[s]} for s in splits]
        header["configs"] = [{"config_name": "default", "data_files": data_files}]
        header["dataset_info"] = [_dataset_info("default", webdataset_features_yaml(), splits)]
    return header


def _front_matter(header: dict) -> str:
    body = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{body}---\n"


def _n(value: int) -> str:
    return f"{value:,}"


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def _md(text) -> str:
    """Text for a Markdown table cell: no line breaks, and no `<fig>` a Markdown renderer
    would take for an HTML tag and hide."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")


def _field_table(schema_name: str) -> list[str]:
    rows = ["| field | type | description |", "|---|---|---|"]
    for path, f in flat_fields(arrow_schema(schema_name)):
        rows.append(f"| `{path}` | `{type_label(f.type)}` | {_md(describe(f))} |")
    return rows


def _status_table(block: dict, what: str) -> list[str]:
    rows = [f"| {what} status | count | reasons |", "|---|---:|---|"]
    for status, n in block.get("by_status", {}).items():
        reasons = block.get("by_reason", {}).get(status, {})
        detail = ", ".join(f"{r} {_n(c)}" for r, c in reasons.items())
        rows.append(f"| {status} | {_n(n)} | {_md(detail)} |")
    return rows


def _license_section(facts: BuildFacts) -> list[str]:
    total = sum(facts.licenses.values())
    nc_nd = non_commercial_or_no_derivatives(facts.licenses)
    commercial = commercial_use(facts.licenses)
    lines = [
        "## Licence terms",
        "",
        "The images and captions are the work of the articles' authors and publishers. Each "
        "pair keeps the licence of its article, in the `license` field (a normalised code) "
        "and `license_url` (as the article states it); that licence governs the pair's use. "
        "The compilation is therefore published under `other`: there is no single licence.",
        "",
        "| licence | kept pairs | share |",
        "|---|---:|---:|",
    ]
    for code, n in facts.licenses.items():
        lines.append(f"| {_md(code)} | {_n(n)} | {_pct(n / total)} |")
    lines += [
        "",
        f"- **Non-commercial or no-derivatives (NC/ND): {_pct(facts.license_share(nc_nd))}** "
        f"of the pairs ({', '.join(nc_nd) or 'none'}). NC pairs may not be used commercially; "
        "ND pairs may not be shared in adapted form.",
        f"- Commercial reuse allowed: {_pct(facts.license_share(commercial))} "
        f"({', '.join(commercial) or 'none'}).",
    ]
    if "NO-CC CODE" in facts.licenses:
        lines.append(
            "- `NO-CC CODE`: open access in PMC, but under no Creative Commons licence; the "
            "terms are the publisher's, stated in the article."
        )
    if UNKNOWN_LICENSE in facts.licenses:
        lines.append(
            f"- `{UNKNOWN_LICENSE}`: the article states no licence the build recognises; "
            "treat as all rights reserved until checked."
        )
    filters = facts.stats.get("options", {}).get("filters", {})
    if filters.get("licenses"):
        lines.append(f"- The build kept only articles under: {', '.join(filters['licenses'])}.")
    lines += [
        "",
        "To keep only pairs that allow commercial reuse:",
        "",
        "```python",
        f"ds = ds.filter(lambda pair: pair['license'] in {commercial or ['CC BY']!r})",
        "```",
        "",
        "Some figures reproduce third-party material under terms other than the article's "
        "licence (the caption or the article says so); the per-article licence does not "
        "clear those. PMC's terms for the Open Access subset: " + LICENSE_LINK,
        "",
    ]
    return lines


def _composition(facts: BuildFacts) -> list[str]:
    stats = facts.stats
    lines = [
        "## Composition",
        "",
        f"{_n(facts.n_pairs)} figure-caption pairs from {_n(stats['articles']['listed'])} "
        f"articles listed and {_n(stats['figures']['seen'])} figures seen. Each pair is one "
        "figure (or a table that exists only as an image) of a PMC Open Access article: the "
        "image, its full caption and the article's metadata.",
        "",
        "| split | pairs | shards |",
        "|---|---:|---:|",
    ]
    per_split, shards = stats.get("pairs_per_split", {}), stats.get("shards", {})
    for split in split_order(per_split):
        lines.append(f"| {split} | {_n(per_split[split])} | {len(shards.get(split, []))} |")
    lines += [""]
    if facts.skipped_splits:
        lines += [
            "Splits left out of the configs because the Hugging Face loader does not accept "
            f"their names: {', '.join(facts.skipped_splits)} (their files are in the folders "
            "of the same name).",
            "",
        ]
    lines += _status_table(stats["articles"], "article") + [""]
    lines += _status_table(stats["figures"], "figure") + [""]
    identity = stats.get("identity", {})
    verdict = (
        "holds for this build."
        if identity.get("holds")
        else "FAILED for this build: " + "; ".join(identity.get("problems", []))
    )
    lines += [
        "`docs/filters.md` of pmc_pipeline explains every reason. The accounting identity "
        "(articles listed = sum of article statuses; figures seen = sum of figure statuses; "
        f"kept figures = pair rows = shard samples) {verdict}",
        "",
    ]
    return lines


def _collection(facts: BuildFacts) -> list[str]:
    opts = facts.stats.get("options", {})
    filters = opts.get("filters", {})
    fractions = ", ".join(f"{s} {f}" for s, f in opts.get("split", {}).items())
    lines = [
        "## Collection and processing",
        "",
        f"- **Source**: the PubMed Central Open Access subset, `{opts.get('layout', '?')}` layout, "
        f"read from `{opts.get('root', '?')}`"
        + (
            "; every article version."
            if opts.get("all_versions")
            else "; newest version of each article."
        )
        + (f" Only articles updated since {opts['since']}." if opts.get("since") else ""),
        "- **Parsing**: every `<fig>` of the JATS XML wherever it sits (body, floats-group, "
        "fig-group, boxed-text, app, sub-article), the full caption (title and every "
        "paragraph, MathML as text), the body sentences that cite the figure, and the "
        "article's metadata and licence.",
        f"- **Images**: EXIF orientation applied, CMYK, 16-bit and palette images converted "
        f"to RGB, resized to at most {opts.get('max_side', '?')} px on the long side, JPEG "
        f"quality {opts.get('jpeg_quality', '?')}; decompression bombs refused.",
        "- **Filters**: "
        + ", ".join(f"{k} = {v}" for k, v in sorted(filters.items()) if v is not None)
        + "; every figure dropped keeps its reason in the figures table.",
        f"- **Deduplication**: exact (pixel sha256) and near-duplicate (64-bit perceptual "
        f"hash, Hamming distance <= {opts.get('near_dup_threshold', '?')}); one canonical "
        "pair is kept, the others point at it (`duplicate_of`).",
        f"- **Decontamination and takedowns**: figures matching the "
        f"{opts.get('decontaminate_hashes', 0)} image hashes of evaluation sets given are "
        f"dropped (status `contaminated`); the takedown list had "
        f"{opts.get('takedown', 0)} entries (status `removed`).",
        f"- **Splits**: by article (every figure of an article in the same split), from a "
        f"hash of the PMCID: {fractions or '?'}.",
        "",
    ]
    build = facts.stats.get("build") or {}
    if build:
        lines += ["Build: " + ", ".join(f"{k} {v}" for k, v in sorted(build.items())) + ".", ""]
    return lines


MOTIVATION = """\
## Motivation

A PMC-15M-style dataset (BiomedCLIP, Zhang et al. 2023): scientific figures with their full
captions from the PubMed Central Open Access subset, for training and evaluating biomedical
vision-language models. Built with pmc_pipeline, which keeps every caption's text, filters
and deduplicates, splits by article, and accounts for every article and figure it saw.
"""

USES = """\
## Uses

- **Intended**: pretraining and fine-tuning contrastive image-text models (CLIP-style);
  image-text retrieval; research on scientific figures and captions.
- **Out of scope**: clinical diagnosis or any decision about a patient (these are figures
  from publications, selected and edited by their authors, not clinical data); identifying
  people shown in figures; commercial use of NC-licensed pairs.
"""

LIMITATIONS = """\
## Known limitations

- A caption describes the whole figure. Compound figures (panels A, B, ...) are kept whole,
  and their captions refer to panels the image does not separate.
- The mix of fields, journals and publishers is that of PMC's Open Access subset, not of
  biomedicine or of clinical practice; captions are almost all in English.
- Licences are read from the article (JATS or PMC's listing) and may be missing or wrong
  (`unknown`); material a figure reproduces from elsewhere may carry other terms.
- Near-duplicates are found by a perceptual hash: re-used figures that were cropped or
  annotated heavily can remain, and distinct but similar images (e.g. blots) can be merged.
- A build reflects PMC when it was read: articles retracted or withdrawn later stay until
  a new build with a takedown list.
- Images are re-encoded as JPEG at a bounded size: fine detail of large figures is lost.
"""


def _loading() -> list[str]:
    return [
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        "# DIR: this folder, or the dataset's repository id on the Hugging Face Hub",
        "pairs = load_dataset(DIR)  # the default config: one split per build split",
        'figures = load_dataset(DIR, "figures")  # every figure seen (split "full")',
        'articles = load_dataset(DIR, "articles")  # every article listed (split "full")',
        "```",
        "",
        "The images are in the WebDataset shards (`webdataset/<split>/*.tar`: `<key>.jpg`, "
        "`<key>.txt`, `<key>.json`). `webdataset/` is a dataset folder of its own, with its "
        f"own card ([{WEBDATASET_README}]({WEBDATASET_README})) declaring the sample's "
        "features:",
        "",
        "```python",
        'shards = load_dataset(f"{DIR}/webdataset")  # a local folder',
        "",
        "# from the Hub: fetch the shards (or only some splits) first",
        "from huggingface_hub import snapshot_download",
        "",
        'local = snapshot_download(REPO_ID, repo_type="dataset", allow_patterns=["webdataset/*"])',
        'shards = load_dataset(f"{local}/webdataset")',
        "```",
        "",
        "(`datasets` runs one loader per dataset folder, so one card cannot hold both the "
        "Parquet tables and the shards.) The shards also load in `webdataset`, "
        "`open_clip_train` (`--dataset-type webdataset`; each split's `sizes.json` gives its "
        "size) and any tar reader. `croissant.json` describes the build in MLCommons "
        "Croissant 1.0.",
        "",
    ]


def _structure() -> list[str]:
    lines = ["## Fields", ""]
    for config, (schema_name, what) in TABLES.items():
        lines += [f"### {config}", "", f"{what[0].upper()}{what[1:]}.", ""]
        lines += _field_table(schema_name) + [""]
    return lines


def top_card(facts: BuildFacts) -> str:
    """OUTPUT/README.md."""
    body = [
        f"# {PRETTY_NAME}",
        "",
        f"{_n(facts.n_pairs)} biomedical figure-caption pairs from the PubMed Central Open "
        "Access subset, in WebDataset shards (images, captions, metadata) and Parquet tables "
        "(every pair, every figure seen, every article listed, each with its status).",
        "",
        *_loading(),
        MOTIVATION,
        *_composition(facts),
        *_collection(facts),
        *_license_section(facts),
        USES,
        LIMITATIONS,
        *_structure(),
        "## Citation",
        "",
        "Cite the articles the pairs come from (each pair has its `pmcid` and `doi`), and:",
        "",
        "```bibtex",
        citation(facts),
        "```",
        "",
    ]
    return _front_matter(top_header(facts)) + "\n" + "\n".join(body)


def webdataset_card(facts: BuildFacts) -> str:
    """OUTPUT/webdataset/README.md."""
    body = [
        f"# {PRETTY_NAME}: WebDataset shards",
        "",
        "The image-bearing part of the build described in [../README.md](../README.md) "
        "(composition, licence terms, limitations, citation). One folder per split; each "
        "sample is `<key>.jpg` (the image), `<key>.txt` (the caption) and `<key>.json` (the "
        "pair record, the same as the Parquet pair row); `sizes.json` counts each shard's "
        "samples.",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'shards = load_dataset("PATH/webdataset")',
        "```",
        "",
        "The features below are declared so that the loader does not guess the sidecar's "
        "types from its first samples (where a mostly-null field such as `parent_group` "
        "would be typed null and fail on the first real value).",
        "",
        "| column | type | description |",
        "|---|---|---|",
        "| `jpg` | image | the figure, RGB JPEG |",
        "| `txt` | string | the caption |",
        "| `json` | struct | the pair record (fields in ../README.md, `pairs`) |",
        "| `__key__` | string | the sample key, e.g. PMC10009416v1_f003 |",
        "| `__url__` | string | the shard the sample was read from |",
        "",
        "| split | pairs | shards |",
        "|---|---:|---:|",
    ]
    for split, part in facts.shards.items():
        body.append(f"| {split} | {_n(part.rows)} | {len(part.files)} |")
    body += ["", f"Licence: per pair, see ../README.md (`license: other`, {LICENSE_LINK}).", ""]
    return _front_matter(webdataset_header(facts)) + "\n" + "\n".join(body)
