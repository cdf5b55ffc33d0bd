"""The `pmc-pipeline` command.

Each subcommand lives in its own module under pmc_pipeline/commands/ with two functions,
`add_arguments(parser)` and `run(args) -> int`; it is imported only when used, so
`pmc-pipeline parse` does not pay for torch or Beam.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module under pmc_pipeline.commands, one-line help)
COMMANDS = {
    "parse": ("parse", "parse JATS XML files; print one JSON line per article"),
    "mirror": ("mirror", "write a synthetic PMC mirror (cloud or legacy layout)"),
    "build": ("build", "build the dataset (Beam): list, fetch, parse, filter, dedupe, write"),
    "train": ("train", "train a contrastive model on a build's WebDataset shards"),
    "evaluate": ("evaluate", "retrieval recall@k / zero-shot of a trained run"),
    "report": ("report", "write the data card (OUTPUT/card/index.html) of a build"),
    "hub": ("hub", "write a build's Hub files: README.md dataset card, croissant.json"),
}


def _load(name: str):
    return importlib.import_module(f"pmc_pipeline.commands.{COMMANDS[name][0]}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="pmc-pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == chosen:  # only the chosen command's module is imported
            _load(name).add_arguments(p)
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = _load(args.command)
    if extra and not getattr(module, "ACCEPTS_EXTRA_ARGS", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra_args = extra  # Beam's own options pass through to `build`
    args.command_argv = argv[argv.index(args.command) + 1 :]
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
