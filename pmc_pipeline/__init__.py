"""pmc_pipeline: build a PMC-15M-style figure-caption dataset from PubMed Central OA."""

__version__ = "0.1.0"
