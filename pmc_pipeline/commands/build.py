"""`pmc-pipeline build`: the Beam build job (beam_jobs/build_dataset.py).

Takes the job's own options (see beam_jobs/options.py, or `pmc-pipeline build --help`) and
passes Beam's (--runner, --direct_num_workers, --direct_running_mode, --project, --region,
--temp_location, --setup_file, ...) through to Beam unchanged.
"""

from __future__ import annotations

ACCEPTS_EXTRA_ARGS = True  # Beam's own pipeline options


def add_arguments(parser) -> None:
    from pmc_pipeline.logs import configure_build_logging

    configure_build_logging()  # before Beam is imported
    from beam_jobs.options import BuildOptions

    BuildOptions._add_argparse_args(parser)  # so --help lists them and bad values fail early

    def one_line_error(message: str):
        parser.exit(2, f"pmc-pipeline build: error: {message}\n")

    parser.error = one_line_error  # a bad value is one line, not the usage block


def run(args) -> int:
    from pmc_pipeline.logs import configure_build_logging

    configure_build_logging()  # before Beam is imported
    from beam_jobs.build_dataset import run as run_build

    return run_build(args.command_argv)
