"""A thread-safe request rate limit (a token bucket), for hosts that ask to be spared, such
as NCBI's (about 3 requests per second)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

NCBI_RATE = 3.0  # requests per second, as NCBI asks of its HTTP services
_NCBI_DOMAINS = ("ncbi.nlm.nih.gov", "nlm.nih.gov")


def default_rate(url: str) -> float | None:
    """The polite default for a URL: NCBI_RATE for NCBI hosts, no limit elsewhere."""
    host = (urlsplit(url).hostname or "").lower()
    if any(host == d or host.endswith("." + d) for d in _NCBI_DOMAINS):
        return NCBI_RATE
    return None


class RateLimiter:
    """At most `rate` acquisitions per second on average, with bursts of up to `burst`.

    One limiter is shared by every thread of a process; a Beam job with N worker
    processes makes up to N times this rate, so divide the rate by N for a global limit.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the time slept."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            # A negative balance is a debt: this caller waits until it is repaid, and the
            # next caller's wait starts after it, so waits queue up in arrival order.
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def __getstate__(self) -> dict:
        return {"rate": self.rate, "burst": self.burst}

    def __setstate__(self, state: dict) -> None:
        RateLimiter.__init__(self, state["rate"], state["burst"])
