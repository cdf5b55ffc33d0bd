"""BuildOptions: every option of the build job, with its default. Beam's own options
(--runner, --direct_num_workers, --direct_running_mode, Dataflow's --project --region
--temp_location --setup_file, ...) are parsed by Beam beside these."""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions


class BuildOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        # Where from, where to.
        parser.add_argument(
            "--layout",
            choices=["cloud", "legacy"],
            default="cloud",
            help="PMC layout of the root (default: cloud)",
        )
        parser.add_argument(
            "--root",
            default=None,
            help="PMC root: s3://bucket[/prefix], http(s)://mirror/, or a directory "
            "(default for cloud: s3://pmc-oa-opendata)",
        )
        parser.add_argument(
            "--output",
            required=False,
            default=None,
            help="build output: a local path, s3:// or gs:// (required)",
        )
        parser.add_argument(
            "--phase",
            choices=["all", "extract", "assemble"],
            default="all",
            help="run extract (resumable staging), assemble (publish), or both",
        )

        # Listing and selection.
        parser.add_argument(
            "--since", default=None, help="only articles updated on or after this date (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--pmcids",
            default=None,
            help="a file of PMCIDs (one per line) to build instead of the listing",
        )
        parser.add_argument(
            "--all-versions",
            action="store_true",
            help="keep every version of an article, not only the newest",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="only the first N articles of the listing (for trials)",
        )
        parser.add_argument(
            "--licenses",
            default="all",
            help="licence allowlist of normalised codes, comma separated, e.g. "
            "'CC0,CC BY' ('all' keeps every licence; default all)",
        )
        parser.add_argument(
            "--article-types",
            default="all",
            help="article-type allowlist, comma separated ('all': no rule)",
        )
        parser.add_argument(
            "--requests-per-second",
            type=float,
            default=None,
            help="rate limit per worker process for HTTP roots (default: 3 for "
            "NCBI hosts, unlimited elsewhere)",
        )

        # Extract.
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=100,
            help="articles per staging chunk (the unit of resume; default 100)",
        )
        parser.add_argument(
            "--fetch-threads",
            type=int,
            default=8,
            help="concurrent article fetches inside a chunk (default 8)",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="extract again the articles whose fetch failed in earlier runs",
        )
        parser.add_argument(
            "--max-side",
            type=int,
            default=1024,
            help="longer side of the published JPEG; never upscaled (default 1024)",
        )
        parser.add_argument("--jpeg-quality", type=int, default=95)
        parser.add_argument(
            "--min-side",
            type=int,
            default=None,
            help="drop images whose shorter side is below this (filters default)",
        )
        parser.add_argument(
            "--max-aspect-ratio",
            type=float,
            default=None,
            help="drop images more elongated than this (filters default)",
        )
        parser.add_argument("--min-caption-tokens", type=int, default=None)
        parser.add_argument("--max-caption-tokens", type=int, default=None)
        parser.add_argument(
            "--figure-types",
            default="all",
            help="figure-type allowlist, comma separated, e.g. 'radiology,chart' (types read "
            "from the caption: radiology, light_microscopy, fluorescence_microscopy, "
            "electron_microscopy, gel_blot, chart, diagram, molecular_structure, photograph, "
            "other; 'all': no rule)",
        )
        parser.add_argument(
            "--include-tables",
            action="store_true",
            help="publish tables that exist only as images (default: drop them)",
        )

        # Assemble.
        parser.add_argument(
            "--near-dup-threshold",
            type=int,
            default=4,
            help="Hamming distance on the 64-bit perceptual hash up to which two "
            "images are near duplicates (default 4)",
        )
        parser.add_argument(
            "--no-near-dedupe",
            action="store_true",
            help="exact dedupe only (decontamination then matches pixels only)",
        )
        parser.add_argument(
            "--decontaminate",
            default=None,
            help="file of image hashes (e.g. of evaluation sets) to drop",
        )
        parser.add_argument(
            "--takedown",
            default=None,
            help="file of PMCIDs (retractions, takedowns) to remove from the output",
        )
        parser.add_argument(
            "--split",
            default="train=0.98,val=0.01,test=0.01",
            help="split fractions by article (default train=0.98,val=0.01,test=0.01)",
        )
        parser.add_argument(
            "--split-salt", default="", help="salt of the PMCID hash that assigns splits"
        )
        parser.add_argument(
            "--shard-size",
            type=int,
            default=2000,
            help="samples per WebDataset shard (default 2000)",
        )
