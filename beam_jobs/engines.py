"""Where the build's pipelines run: the runner named by --runner, with what it needs set up.

- DirectRunner (the default): in this process. Beam's DirectRunner (2.6x+) first tries
  Prism, a Go runner it downloads from GitHub on first use; a local build must not touch the
  network, so the default is LocalRunner: Beam's DirectRunner with that first try skipped
  (the FnApiRunner, or the BundleBasedDirectRunner for what it cannot run, as before).
- DaskRunner (`--runner DaskRunner`, or Beam's fully qualified name): on a dask.distributed
  cluster. With `--dask_client_address HOST:PORT` (or `--dask_scheduler_file`) an existing
  cluster; without, a LocalCluster of `--dask-workers` processes (one thread each) that the
  build starts and stops itself. Extract gives every planned chunk its own Dask partition
  (a task), so the work spreads over the workers and a task that dies with its worker is
  retried by Dask on another; the shuffling pipelines of assemble use one partition per
  worker thread (see Engine.options).
- Any other runner (DataflowRunner, FlinkRunner, SparkRunner, PortableRunner): as given.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.direct.direct_runner import SwitchingDirectRunner

from pmc_pipeline.arrow_memory import use_system_pool

log = logging.getLogger("pmc_pipeline.build")

DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
_DASK_NAMES = {"DaskRunner", "dask", DASK_RUNNER}
MAX_PARTITIONS = 2000  # Dask tasks per stage: beyond this the scheduler's cost dominates


_LOCAL_NAMES = {
    None,
    "DirectRunner",
    "SwitchingDirectRunner",
    "apache_beam.runners.direct.direct_runner.DirectRunner",
    "apache_beam.runners.direct.direct_runner.SwitchingDirectRunner",
}


def runner_of(beam_argv: list[str]) -> str | None:
    return PipelineOptions(beam_argv).view_as(StandardOptions).runner


class LocalRunner(SwitchingDirectRunner):
    """Beam's DirectRunner without Prism. DirectRunner.run_pipeline tries the Prism runner
    first unless the runner is interactive (Prism does not support interactive mode), and
    Prism's first run downloads its binary from github.com (apache_beam/runners/direct/
    direct_runner.py). Marked interactive (its public is_interactive()), it goes straight to
    its own in-process runners; nothing else in run_pipeline reads the mark."""

    def __init__(self) -> None:
        super().__init__()
        self.is_interactive()


def is_dask(beam_argv: list[str]) -> bool:
    return runner_of(beam_argv) in _DASK_NAMES


class Engine:
    """Pipeline options for each pipeline of a build, on the chosen runner."""

    def __init__(self, beam_argv: list[str]) -> None:
        self.beam_argv = list(beam_argv)
        self.dask = is_dask(beam_argv)
        self.parallelism = 1  # Dask: the cluster's worker threads
        if self.dask:
            self.beam_argv = _with_option(self.beam_argv, "--runner", DASK_RUNNER)

    def runner(self):
        """The runner object for beam.Pipeline: LocalRunner when the runner is Beam's
        DirectRunner (the default), else None (Beam creates the one the options name)."""
        return LocalRunner() if runner_of(self.beam_argv) in _LOCAL_NAMES else None

    def pipeline(self, elements: int = 1) -> beam.Pipeline:
        """A pipeline on this engine: its runner and its options (see options)."""
        return beam.Pipeline(runner=self.runner(), options=self.options(elements))

    def options(self, elements: int = 1) -> PipelineOptions:
        """The options of a pipeline whose largest Create has `elements` elements. On Dask
        each element becomes a partition (a task): right for extract, where a chunk is
        seconds to minutes of work. A pipeline that shuffles should pass `parallelism`
        instead: DaskRunner's GroupByKey keeps its input's partitions and its flattens add
        them up, so a chain of shuffles costs tasks in the square of the partitions."""
        argv = self.beam_argv
        if self.dask and not _has_option(argv, "--dask_npartitions", "--dask_partition_size"):
            partitions = max(1, min(elements, MAX_PARTITIONS))
            argv = [*argv, "--dask_npartitions", str(partitions)]
        return PipelineOptions(argv)

    def finished(self, result) -> None:
        """After a pipeline's run: DaskRunner opens a client per run and leaves it open."""
        client = getattr(result, "client", None)
        if client is not None:
            client.close()


@contextlib.contextmanager
def engine(beam_argv: list[str], dask_workers: int | None = None) -> Iterator[Engine]:
    """The build's engine; starts (and at the end stops) a local Dask cluster when the
    runner is Dask and no cluster was given."""
    chosen = Engine(beam_argv)
    if not chosen.dask:
        yield chosen
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError(
            "DaskRunner needs dask.distributed: pip install 'pmc_pipeline[dask]'"
        ) from None
    for name in ("distributed", "dask"):  # importing distributed set them to INFO again
        logging.getLogger(name).setLevel(logging.WARNING)
    if _has_option(beam_argv, "--dask_client_address", "--dask_scheduler_file"):
        with Client(**_client_settings(chosen)) as client:
            chosen.parallelism = max(1, sum(client.nthreads().values()))
        yield chosen
        return
    workers = dask_workers or os.cpu_count() or 1
    use_system_pool()  # before the workers start: they inherit ARROW_DEFAULT_MEMORY_POOL
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        address = cluster.scheduler_address
        log.info("dask: a local cluster of %d worker processes at %s", workers, address)
        chosen.beam_argv = [*chosen.beam_argv, "--dask_client_address", address]
        chosen.parallelism = workers
        yield chosen


def _client_settings(chosen: Engine) -> dict:
    """The keyword arguments DaskRunner gives dask.distributed.Client."""
    from apache_beam.runners.dask.dask_runner import DaskOptions

    options = PipelineOptions(chosen.beam_argv).view_as(DaskOptions)
    settings = options.get_all_options(drop_default=True, current_only=True)
    settings.pop("npartitions", None)
    settings.pop("partition_size", None)
    return settings


def _has_option(argv: list[str], *names: str) -> bool:
    return any(arg.split("=", 1)[0] in names for arg in argv)


def _with_option(argv: list[str], name: str, value: str) -> list[str]:
    """argv with `name` set to `value` (any earlier value of it removed)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            out.append(arg)
    return [*out, name, value]
