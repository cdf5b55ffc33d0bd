"""The output lock: refused while its holder runs, taken over when the holder is gone, and a
second build can no longer clean up a running build's staging (issue: chunks with a marker
but no files after two builds shared an output)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.build_checks import check_build
from helpers.paths import PROJECT_ROOT
from helpers.servers import Faults, serve_http

from beam_jobs import build_dataset
from pmc_pipeline.lock import LOCK_FILE, OutputLock, OutputLocked, process_start
from pmc_pipeline.mirror import write_mirror
from pmc_pipeline.outputs import Output


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_held_lock_is_refused_and_released(tmp_path):
    output = Output(str(tmp_path / "out"))
    with OutputLock(output) as first:
        info = json.loads((tmp_path / "out" / LOCK_FILE).read_text())
        assert info["pid"] == os.getpid() and info["token"] == first.info["token"]
        with pytest.raises(OutputLocked, match=f"pid {os.getpid()} on {socket.gethostname()}"):
            OutputLock(output).acquire()
    assert not (tmp_path / "out" / LOCK_FILE).exists()
    with OutputLock(output):  # free again
        pass


@pytest.mark.parametrize(
    "holder",
    [
        {"host": socket.gethostname(), "pid": "dead"},  # the process is gone
        {"host": socket.gethostname(), "pid": os.getpid(), "process_start": "other-boot:1"},
        {"host": "elsewhere", "pid": 1, "heartbeat": "2020-01-01T00:00:00+00:00"},
        {"garbage": True},
    ],
    ids=["dead-pid", "reused-pid", "old-heartbeat-elsewhere", "unreadable"],
)
def test_a_stale_lock_is_taken_over(tmp_path, holder, caplog):
    if holder.get("pid") == "dead":
        holder = {**holder, "pid": _dead_pid()}
    (tmp_path / LOCK_FILE).write_text(json.dumps(holder))
    with OutputLock(Output(str(tmp_path))) as lock:
        now = json.loads((tmp_path / LOCK_FILE).read_text())
        assert now["token"] == lock.info["token"]
    assert "taking over the stale lock" in caplog.text


def test_a_lock_from_another_host_with_a_fresh_heartbeat_is_live(tmp_path):
    beat = dt.datetime.now(dt.UTC).isoformat()
    (tmp_path / LOCK_FILE).write_text(
        json.dumps({"host": "elsewhere", "pid": 1, "heartbeat": beat, "started": beat})
    )
    with pytest.raises(OutputLocked, match="on elsewhere"):
        OutputLock(Output(str(tmp_path))).acquire()


def test_the_holder_renews_its_heartbeat(tmp_path):
    with OutputLock(Output(str(tmp_path)), heartbeat=0.05):
        first = json.loads((tmp_path / LOCK_FILE).read_text())["heartbeat"]
        time.sleep(1.2)
        later = json.loads((tmp_path / LOCK_FILE).read_text())["heartbeat"]
    assert later > first


def test_process_start_tells_a_reused_pid_apart():
    mine = process_start(os.getpid())
    if mine is None:
        pytest.skip("no /proc on this system")
    assert mine == process_start(os.getpid()) != process_start(1)


@pytest.mark.slow
def test_a_second_build_is_refused_while_the_first_runs(tmp_path, capsys):
    mirror, out = tmp_path / "mirror", tmp_path / "out"
    write_mirror(mirror, "cloud", 12, 3, pdf_scale=0.02, supplement_scale=0.1, workers=1)
    args = ["--chunk-size", "3", "--shard-size", "10", "--split", "train=0.5,val=0.25,test=0.25"]
    slow = Faults(rate=1.0, kinds=("slow",), attempts=10**6, slow_seconds=0.1)
    with serve_http(mirror, slow) as url:
        cmd = [sys.executable, "-m", "beam_jobs.build_dataset", "--root", url]
        cmd += ["--output", str(out), "--fetch-threads", "1", "--requests-per-second", "1000"]
        first = subprocess.Popen(
            [*cmd, *args], cwd=PROJECT_ROOT, start_new_session=True, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 120
            while not list(out.glob("staging/g*")) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert list(out.glob("staging/g*")), "the first build should be extracting"
            second = ["--root", url, "--output", str(out), *args]
            assert build_dataset.run(second) == 1
            err = capsys.readouterr().err
            assert f"is in use by another build: pid {first.pid}" in err
            assert first.wait(timeout=300) == 0, first.stderr.read().decode()[-3000:]
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
    check_build(out)
    assert not (out / LOCK_FILE).exists()
    for marker in Path(out, "staging").glob("g*/_SUCCESS.json"):
        assert (marker.parent / "articles.parquet").exists()
