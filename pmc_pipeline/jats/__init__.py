"""The JATS parser: one article's XML -> a model.Article with its Figures, full captions,
in-text mentions and metadata (docs/jats.md).

What the rest of the project uses is re-exported here:

    from pmc_pipeline.jats import parse_article, article_to_json, error_to_json
    from pmc_pipeline.jats import DEFAULT_MAX_BYTES, PARSER_VERSION

The modules, in the order a document goes through them:

    xmltree   safe parsing (size cap, no entities, no DTD), locating <article>, element
              names in either namespace
    refs      cutting the reference lists out of the bytes before parsing
    scan      the one pass over the article: figures, where they sit, citing xrefs
    meta      ids, title, journal, year, licence, keywords
    text      labels, titles, full captions
    mentions  the sentences citing each figure
    article   the entry point, figure records, JSON
"""

from .article import (
    DEFAULT_MAX_BYTES,
    PARSER_VERSION,
    article_to_json,
    error_to_json,
    parse_article,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PARSER_VERSION",
    "article_to_json",
    "error_to_json",
    "parse_article",
]
