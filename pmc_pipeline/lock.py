"""One build at a time per output: a lock file, OUTPUT/_LOCK.json.

Two builds into one output would clean up each other's staging (a starting build removes the
chunk folders it finds without a marker, which is exactly what a running build is writing).
So a build takes the lock before it touches the output and gives it back when it ends.

The lock names its holder: host, pid, the process's start time (so a reused pid is not
mistaken for the holder), when it was taken, and a heartbeat the holder rewrites every
`heartbeat` seconds. A lock is live while its holder runs: on the same host, while that
process exists; from another host, while its heartbeat is younger than `stale_after`. A
stale lock (its holder was killed) is taken over, and the takeover is logged.

Locally the lock is created with O_CREAT | O_EXCL, and a stale one is first renamed away, so
two builds cannot both take it. Object stores (s3://, gs://) have no exclusive create through
pyarrow: there the lock is written, then read back after a pause, and the build goes on only
if it still names this build (two builds starting within the same second could both see
their own lock; the window is documented in docs/running.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pyarrow.fs as pafs

from pmc_pipeline.outputs import Output

log = logging.getLogger(__name__)

LOCK_FILE = "_LOCK.json"
HEARTBEAT_SECONDS = 60.0
STALE_AFTER_SECONDS = 600.0


class OutputLocked(Exception):
    """Another live build holds the output's lock; the message names it."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def process_start(pid: int) -> str | None:
    """An identity of a running process that a reused pid does not share: the boot id and
    the process's start time in clock ticks since boot (Linux /proc), or None elsewhere."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime); the command name (field 2) may hold spaces, so split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def holder_is_live(info: dict, stale_after: float = STALE_AFTER_SECONDS) -> bool:
    """Whether the build a lock file names is still running (see the module docstring)."""
    if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
        if not _process_alive(info["pid"]):
            return False
        started = info.get("process_start")
        return started is None or started == process_start(info["pid"])
    try:
        beat = dt.datetime.fromisoformat(info["heartbeat"])
    except (KeyError, TypeError, ValueError):
        return False  # unreadable: nobody can be shown to hold it
    return (dt.datetime.now(dt.UTC) - beat).total_seconds() < stale_after


def describe(info: dict) -> str:
    return (
        f"pid {info.get('pid')} on {info.get('host')} (since {info.get('started')}, "
        f"last heartbeat {info.get('heartbeat')})"
    )


class OutputLock:
    """`with OutputLock(output):` — the lock for the duration of a build (see module doc)."""

    def __init__(
        self,
        output: Output,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        stale_after: float = STALE_AFTER_SECONDS,
        settle: float = 1.0,
    ) -> None:
        self.output = output
        self.heartbeat, self.stale_after, self.settle = heartbeat, stale_after, settle
        self.info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "process_start": process_start(os.getpid()),
            "token": uuid.uuid4().hex,
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def _local(self) -> bool:
        return isinstance(self.output.fs, pafs.LocalFileSystem)

    def read(self) -> dict | None:
        """The current lock file's content; {} when it exists but cannot be read."""
        if not self.output.exists(LOCK_FILE):
            return None
        try:
            info = self.output.read_json(LOCK_FILE)
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def acquire(self) -> None:
        self.info["started"] = self.info["heartbeat"] = _now()
        for _ in range(5):
            current = self.read()
            if current is not None:
                if current and holder_is_live(current, self.stale_after):
                    raise OutputLocked(
                        f"{self.output.uri} is in use by another build: {describe(current)}; "
                        f"wait for it to end (if it is gone, remove {LOCK_FILE} from the output)"
                    )
                log.warning(
                    "taking over the stale lock of %s", describe(current) if current else "?"
                )
                if not self._remove_stale():
                    continue  # another build took it over first: look again
            if self._create():
                break
        else:
            raise OutputLocked(f"could not take the lock of {self.output.uri}")
        self._thread = threading.Thread(target=self._beat, name="output-lock", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        current = self.read()
        if current and current.get("token") == self.info["token"]:
            self.output.fs.delete_file(self.output.path(LOCK_FILE))

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    # --- creating and replacing the file --------------------------------------------------

    def _payload(self) -> bytes:
        return (json.dumps(self.info, indent=2, sort_keys=True) + "\n").encode()

    def _create(self) -> bool:
        """Create the lock file; False when another build created it first."""
        if self._local:
            path = self.output.path(LOCK_FILE)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(self._payload())
            return True
        self.output.write_bytes(LOCK_FILE, self._payload())
        time.sleep(self.settle)  # let a build that wrote at the same moment show itself
        current = self.read()
        return bool(current and current.get("token") == self.info["token"])

    def _remove_stale(self) -> bool:
        """Move a stale lock out of the way; False when another build did so first."""
        path = self.output.path(LOCK_FILE)
        if self._local:
            try:
                os.rename(path, f"{path}.stale-{self.info['token']}")
            except FileNotFoundError:
                return False
            os.unlink(f"{path}.stale-{self.info['token']}")
            return True
        try:
            self.output.fs.delete_file(path)
        except FileNotFoundError:
            return False
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            self.info["heartbeat"] = _now()
            try:
                if self._local:
                    path = self.output.path(LOCK_FILE)
                    with open(f"{path}.beat", "wb") as f:
                        f.write(self._payload())
                    os.replace(f"{path}.beat", path)
                else:
                    self.output.write_bytes(LOCK_FILE, self._payload())
            except OSError as exc:  # a missed beat is not fatal: the next one retries
                log.warning("could not renew the output lock: %s", exc)
