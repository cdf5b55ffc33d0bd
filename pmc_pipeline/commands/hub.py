"""`pmc-pipeline hub OUTPUT`: (re)write the Hub files of a finished build — README.md (the
dataset card), webdataset/README.md (the shards' card) and croissant.json — and print their
paths. A build writes them itself; this command is for builds made before it did, or after
editing the schemas' descriptions. See docs/hub.md."""

from __future__ import annotations

import sys

from pmc_pipeline.hub import write_hub_files
from pmc_pipeline.manifest import STATS_FILE
from pmc_pipeline.outputs import Output


def add_arguments(parser) -> None:
    parser.add_argument(
        "output", metavar="OUTPUT", help="the build's output: a path, s3:// or gs://"
    )


def run(args) -> int:
    output = Output(args.output)
    if not output.exists(STATS_FILE):
        print(
            f"pmc-pipeline hub: {output.path(STATS_FILE)} not found: is this a finished build?",
            file=sys.stderr,
        )
        return 1
    for relpath in write_hub_files(output, output.read_json(STATS_FILE)):
        print(output.path(relpath))
    return 0
