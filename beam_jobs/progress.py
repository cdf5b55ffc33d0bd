"""Progress of a long extract, seen from the launcher: articles staged out of the plan, the
rate and the time left.

It reads what the workers leave in the output — each finished chunk's marker and the number
of articles in it — so it works the same whatever runs the pipeline (in this process, on a
Dask cluster, on Dataflow). On a terminal it is a tqdm bar; otherwise (a log file, a CI
job, a remote runner) one status line every `line_every` seconds (30 by default).
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from tqdm import tqdm

from pmc_pipeline import staging
from pmc_pipeline.outputs import Output
from pmc_pipeline.plan import Plan

log = logging.getLogger("pmc_pipeline.build")


class ExtractProgress:
    """`with ExtractProgress(output, plan):` around the extract pipeline's run."""

    def __init__(
        self,
        output: Output,
        plan: Plan,
        *,
        interval: float | None = None,
        line_every: float = 30.0,
        bar: bool | None = None,
    ) -> None:
        self.output, self.plan = output, plan
        self.planned = {c.chunk for c in plan.chunks}
        local = not ("://" in output.uri and not output.uri.startswith("file://"))
        self.bar = sys.stderr.isatty() if bar is None else bar
        # Listing the staging folder of a remote output is not free: look less often.
        self.interval = interval if interval is not None else (1.0 if local else 60.0)
        self.line_every = max(line_every, self.interval)
        self.seen: set[str] = set()
        self.done = 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tqdm: tqdm | None = None

    def __enter__(self) -> ExtractProgress:
        if self.bar:
            self._tqdm = tqdm(total=self.plan.todo, unit="article", desc="extract", leave=True)
        self._thread = threading.Thread(target=self._run, name="extract-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        if self._tqdm is not None:
            self._tqdm.close()

    def _run(self) -> None:
        last_line = time.monotonic()
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except OSError as exc:  # a listing that failed once: the next poll retries
                log.debug("progress: %s", exc)
            if not self.bar and time.monotonic() - last_line >= self.line_every:
                log.info("%s", self.status())
                last_line = time.monotonic()

    def poll(self) -> int:
        """Count the articles of the planned chunks staged since the last poll."""
        new = [c for c in staging.complete_chunks(self.output) if c in self.planned]
        added = 0
        for chunk in new:
            if chunk in self.seen:
                continue
            self.seen.add(chunk)
            added += staging.read_marker(self.output, chunk)["articles"]
        self.done += added
        if self._tqdm is not None and added:
            self._tqdm.update(added)
        return added

    def status(self) -> str:
        """'extract: 1,234 of 80,000 articles (1.5%), 12.3 articles/s, about 1:48:20 left'."""
        total = self.plan.todo
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        share = f" ({self.done / total:.1%})" if total else ""
        left = (
            f", about {_clock((total - self.done) / rate)} left"
            if rate > 0 and self.done < total
            else ""
        )
        return f"extract: {self.done:,} of {total:,} articles{share}, {rate:.1f} articles/s{left}"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
