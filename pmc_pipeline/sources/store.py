"""The one small interface every store implements (get, open, list, head), and what they
share: bounded retries with jittered backoff, size caps, and body integrity checks.

Errors follow model.py: MissingFile for an object that does not exist, UnsafeInput for a
body over its cap (refused before it is read), FetchError(reason) after bounded retries.
A reason always starts with a short code ('md5_mismatch', 'truncated', 'timeout', ...)
followed by ': ' and details; docs/sources.md lists the codes.
"""

from __future__ import annotations

import hashlib
import io
import random
import threading
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, NoReturn, TypeVar

from pmc_pipeline.model import FetchError, ParseError, UnsafeInput

T = TypeVar("T")

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    """One object as a listing or a HEAD request describes it. `key` is relative to the
    store's root; `last_modified` is ISO 8601 (UTC) when the store knows it."""

    key: str
    size: int | None = None
    last_modified: str | None = None
    etag: str | None = None


class Retryable(FetchError):
    """One attempt failed in a way another attempt may not (network fault, truncated or
    corrupted body). RetryPolicy turns the last one into a plain FetchError."""


class Damaged(Retryable):
    """One attempt got bytes that fail a check which cannot tell damage in transit from
    damage at the source (a package that fails its gzip CRC, a JSON that does not parse).

    `fingerprint` identifies the bytes received (a digest of the whole body). When two
    attempts get the same damaged bytes, the damage is at the source (transit damage is
    random): RetryPolicy then stops and returns `at_source()`, which raises the permanent
    error (or returns what can still be used). When no two attempts agree, the last one
    ends as FetchError 'damaged_in_transit: ...', which the build records as retryable.
    """

    def __init__(self, reason: str, fingerprint: bytes, at_source: Callable[[], Any]) -> None:
        super().__init__(reason)
        self.fingerprint = fingerprint
        self.at_source = at_source


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with exponential backoff and full jitter (sleep a random time
    between 0 and base * 2**n, capped), so that many workers retrying after a shared fault
    do not all come back at the same moment."""

    attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 10.0

    def delay(self, failures: int) -> float:
        return random.uniform(0, min(self.backoff_max, self.backoff * 2 ** (failures - 1)))

    def call(self, attempt: Callable[[], T]) -> T:
        """Run `attempt` until it succeeds, raises something other than Retryable, or the
        attempts are spent; then raise FetchError with the last reason. An attempt that
        raises Damaged with the bytes of an earlier Damaged attempt ends the retries with
        its `at_source()` (see Damaged)."""
        last: Retryable | None = None
        damaged: set[bytes] = set()
        for n in range(1, max(1, self.attempts) + 1):
            try:
                return attempt()
            except Damaged as exc:
                if exc.fingerprint in damaged:
                    return exc.at_source()
                damaged.add(exc.fingerprint)
                last = exc
            except Retryable as exc:
                last = exc
            if n < self.attempts:
                time.sleep(self.delay(n))
        prefix = "damaged_in_transit: " if isinstance(last, Damaged) else ""
        raise FetchError(f"{prefix}{last} (after {self.attempts} attempts)") from last


class Store(ABC):
    """Objects under a root (a directory, an HTTP(S) prefix or an S3 prefix), named by keys
    relative to it with '/' separators.

    Stores are picklable (Beam ships them to workers): network clients are created lazily
    in each process and dropped by __getstate__.
    """

    uri: str
    retry: RetryPolicy

    def get(self, key: str, *, max_bytes: int, md5: str | None = None) -> bytes:
        """The whole body of `key`. A body longer than max_bytes is refused (UnsafeInput);
        a short body, a network fault or an md5 mismatch is retried, then reported."""
        return self.load(key, _same, max_bytes=max_bytes, md5=md5)

    def load(
        self, key: str, parse: Callable[[bytes], T], *, max_bytes: int, md5: str | None = None
    ) -> T:
        """`parse` of the whole body of `key`, fetched as by `get`. A body that parse
        refuses with ParseError is fetched again unless it passed its md5 (then the bytes
        are the source's): the same bytes twice mean the source is bad and the ParseError
        is raised; different bytes each time end as FetchError 'damaged_in_transit'."""

        def attempt() -> T:
            data = self._get_once(key, max_bytes)
            if md5 and hashlib.md5(data).hexdigest() != md5.lower():
                raise Retryable(f"md5_mismatch: {key} (expected {md5.lower()})")
            try:
                return parse(data)
            except ParseError as exc:
                if md5:
                    raise
                raise Damaged(str(exc), hashlib.md5(data).digest(), _raiser(exc)) from exc

        return self.retry.call(attempt)

    def _get_once(self, key: str, max_bytes: int) -> bytes:
        """One attempt at the whole body (open, read to the end, close); raises MissingFile,
        UnsafeInput, Retryable or FetchError."""
        with self.open(key, max_bytes=max_bytes) as stream:
            return read_all(stream)

    @abstractmethod
    def open(self, key: str, *, max_bytes: int) -> BinaryIO:
        """A binary stream of `key` that raises UnsafeInput past max_bytes and Retryable on
        a body cut short. It is not retried: callers that stream retry the whole read."""

    @abstractmethod
    def list(
        self, prefix: str = "", *, recursive: bool = True
    ) -> Generator[ObjectInfo, None, None]:
        """Objects whose key starts with `prefix`, in key order. With recursive=False only
        those directly under the prefix's folder (no further '/')."""

    @abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """What is known about `key` without reading it, or None when it does not exist."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"


class ProcessLocalClient:
    """A network client (requests Session, boto3 client) made on first use, once per process.
    Beam pickles stores to ship them to workers: the client and its lock stay behind, and
    each worker process makes its own."""

    _client = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_client", None)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def _lazy_client(self, make: Callable[[], object]):
        if self._client is None:
            with self.__dict__.setdefault("_lock", threading.Lock()):
                if self._client is None:
                    self._client = make()
        return self._client


def _same(data: bytes) -> bytes:
    return data


def _raiser(exc: BaseException) -> Callable[[], NoReturn]:
    def at_source() -> NoReturn:
        raise exc

    return at_source


class CountingReader(io.RawIOBase):
    """A raw stream over `source` that counts the bytes read through it; `after_read`,
    when given, runs after every read (a check on the count, say)."""

    def __init__(self, source: BinaryIO, after_read: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._source = source
        self._after_read = after_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._source.read(len(buffer))
        n = len(chunk)
        self._seen(chunk)
        self.count += n
        buffer[:n] = chunk
        if self._after_read is not None:
            self._after_read()
        return n

    def _seen(self, chunk: bytes) -> None:
        """What a subclass does with each chunk read."""


class HashingReader(CountingReader):
    """A CountingReader that keeps the CRC-32 of what it read (cheap: a fingerprint that
    tells two bodies apart) and, with md5=True, its md5; `drain()` reads the rest, so that
    these cover the whole body."""

    def __init__(self, source: BinaryIO, *, md5: bool = False) -> None:
        super().__init__(source)
        self.md5 = hashlib.md5() if md5 else None
        self.crc32 = 0

    def _seen(self, chunk: bytes) -> None:
        if self.md5 is not None:
            self.md5.update(chunk)
        self.crc32 = zlib.crc32(chunk, self.crc32)

    def drain(self) -> None:
        buffer = bytearray(_CHUNK)
        while self.readinto(buffer):
            pass

    def fingerprint(self) -> bytes:
        """The CRC-32 and length of what was read: the same bytes, or (bar a 2**-32
        chance) not. Damage in transit is not adversarial, so no stronger hash is needed."""
        return self.crc32.to_bytes(4, "big") + self.count.to_bytes(8, "big")


def check_declared_size(key: str, size: int | None, max_bytes: int) -> None:
    """Refuse a body whose declared size is over its cap before a byte of it is read."""
    if size is not None and size > max_bytes:
        raise UnsafeInput(f"too_large: {key} is {size} bytes, over the cap of {max_bytes}")


class CappedReader(io.RawIOBase):
    """A read-only raw stream over `source` that counts bytes, refuses to go past
    `max_bytes`, and reports a body that ends before its declared length.

    `transient` names the exception types of the underlying transport that mean "this
    attempt failed" (a reset, a read timeout); they are raised as Retryable. With
    `min_rate`, a body that arrives slower than that many bytes/s on average once `grace`
    seconds have passed is abandoned as Retryable: a read timeout alone does not end a
    server that trickles a byte at a time.
    """

    def __init__(
        self,
        source: BinaryIO,
        *,
        key: str,
        max_bytes: int,
        expected: int | None = None,
        transient: tuple[type[BaseException], ...] = (),
        on_close: Callable[[], None] | None = None,
        min_rate: float | None = None,
        grace: float = 60.0,
    ) -> None:
        super().__init__()
        self._source = source
        self.key = key
        self.max_bytes = max_bytes
        self.expected = expected
        self.count = 0
        self._transient = transient
        self._on_close = on_close
        self.min_rate = min_rate
        self.grace = grace
        self._start = time.monotonic()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        want = len(buffer)
        if want == 0:
            return 0
        try:
            chunk = self._source.read(min(want, self.max_bytes + 1 - self.count))
        except self._transient as exc:
            raise Retryable(f"{transport_reason(exc)}: {self.key}") from exc
        n = len(chunk)
        if n == 0:
            if self.expected is not None and self.count < self.expected:
                raise Retryable(
                    f"truncated: {self.key} ended at {self.count} of {self.expected} bytes"
                )
            return 0
        self.count += n
        if self.count > self.max_bytes:
            raise UnsafeInput(f"too_large: {self.key} is over the cap of {self.max_bytes} bytes")
        if self.min_rate:
            elapsed = time.monotonic() - self._start
            if elapsed > self.grace and self.count < self.min_rate * elapsed:
                raise Retryable(
                    f"timeout: {self.key} arrives at {self.count / elapsed:.0f} bytes/s, "
                    f"under {self.min_rate:.0f}"
                )
        buffer[:n] = chunk
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self._source.close()
            finally:
                if self._on_close:
                    self._on_close()
        super().close()


def open_capped(
    source: BinaryIO,
    *,
    key: str,
    max_bytes: int,
    size: int | None,
    encoded: bool = False,
    release: Callable[[], None] | None = None,
    transient: tuple[type[BaseException], ...] = (),
    min_rate: float | None = None,
    grace: float = 60.0,
) -> BinaryIO:
    """What every store's open() returns for a body it has started to receive: `source`
    read through a CappedReader, buffered (closing it closes the source).

    `size` is the length the store declares (a file's size, a Content-Length): a body
    declared over max_bytes is refused before a byte of it is read, and the source is
    released (`release`, else source.close()); otherwise a body that ends short of it is
    reported as truncated, unless it is `encoded` (the size then counts encoded bytes).
    `release` is also called when the stream is closed; `transient`, `min_rate` and `grace`
    are CappedReader's."""
    try:
        check_declared_size(key, size, max_bytes)
    except BaseException:
        (release or source.close)()
        raise
    raw = CappedReader(
        source,
        key=key,
        max_bytes=max_bytes,
        expected=None if encoded else size,
        transient=transient,
        on_close=release,
        min_rate=min_rate,
        grace=grace,
    )
    return io.BufferedReader(raw, buffer_size=_CHUNK)


def read_all(stream: BinaryIO) -> bytes:
    """Read a (capped) stream to its end."""
    parts = []
    while chunk := stream.read(_CHUNK):
        parts.append(chunk)
    return b"".join(parts)


def transport_reason(exc: BaseException) -> str:
    """A reason code for a transport exception: 'timeout', 'truncated', 'checksum_mismatch'
    or 'connection'."""
    names = " ".join(cls.__name__ for cls in type(exc).__mro__).lower()
    text = str(exc).lower()
    if "checksum" in names:
        return "checksum_mismatch"
    if "timeout" in names or "timed out" in text:
        return "timeout"
    if "incompleteread" in names or "incomplete" in text or "prematurely" in text:
        return "truncated"
    return "connection"


def iso_utc(moment: datetime | float) -> str:
    """ISO 8601 in UTC with a 'Z', from a datetime or a POSIX timestamp."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
