"""A store over an HTTP(S) prefix: a legacy FTP-layout mirror, NCBI's own HTTPS tree, or a
bucket served by any web server.

One requests Session per process with pooled connections and a urllib3 Retry that backs
off with jitter, honours Retry-After (capped) and retries GET/HEAD on connection errors,
read timeouts and 429/5xx replies. A body cut short or failing its md5 is retried by the
store's own RetryPolicy, since urllib3 has handed the response over by then. Listing reads
the server's HTML directory index (Apache, nginx and Python's http.server all write one),
checked page by page (see HttpStore.index_page).
"""

from __future__ import annotations

import http.client
from collections.abc import Generator, Iterator
from email.utils import parsedate_to_datetime
from typing import BinaryIO, cast
from urllib.parse import quote, unquote, urljoin, urlsplit

import lxml.html
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pmc_pipeline import __version__
from pmc_pipeline.model import FetchError, MissingFile

from .ratelimit import RateLimiter, default_rate
from .store import (
    ObjectInfo,
    ProcessLocalClient,
    Retryable,
    RetryPolicy,
    Store,
    iso_utc,
    open_capped,
)

USER_AGENT = f"pmc_pipeline/{__version__} (PMC figure-caption dataset builder)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# What a half-read body raises from urllib3: resets, read timeouts, IncompleteRead.
_TRANSIENT = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


class _PoliteRetry(Retry):
    """urllib3's Retry, taking a rate-limit token before each retry so that retries count
    against the host's request budget like first attempts do."""

    limiter: RateLimiter | None = None

    def new(self, **kw):
        retry = super().new(**kw)
        retry.limiter = self.limiter
        return retry

    def sleep(self, response=None) -> None:
        super().sleep(response)
        if self.limiter is not None:
            self.limiter.acquire()


class HttpStore(ProcessLocalClient, Store):
    """Objects under `base_url`.

    requests_per_second: the rate limit of this process; None picks the polite default
    (3/s for NCBI hosts, none elsewhere), 0 turns it off. timeout: (connect, read) seconds.
    attempts: tries per request (urllib3) and per body (RetryPolicy). min_rate: bytes/s
    under which a body is abandoned and retried, once the read timeout has passed.
    """

    def __init__(
        self,
        base_url: str,
        *,
        requests_per_second: float | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        attempts: int = 4,
        backoff: float = 0.5,
        backoff_max: float = 10.0,
        retry_after_max: float = 60.0,
        pool_size: int = 32,
        headers: dict[str, str] | None = None,
        max_listing_bytes: int = 256 * 1024 * 1024,
        min_rate: float | None = 1024.0,
    ) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.uri = base_url.rstrip("/") + "/"
        rate = default_rate(base_url) if requests_per_second is None else requests_per_second
        self.limiter = RateLimiter(rate) if rate else None
        self.timeout = cast(tuple[float, float], tuple(timeout))
        self.retry = RetryPolicy(attempts=attempts, backoff=backoff, backoff_max=backoff_max)
        self.retry_after_max = retry_after_max
        self.pool_size = pool_size
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self.max_listing_bytes = max_listing_bytes
        self.min_rate = min_rate

    def session(self) -> requests.Session:
        return self._lazy_client(self._make_session)  # one per process: see ProcessLocalClient

    def _make_session(self) -> requests.Session:
        tries = max(0, self.retry.attempts - 1)
        retry = _PoliteRetry(
            total=tries,
            connect=tries,
            read=tries,
            status=tries,
            other=0,
            redirect=5,
            allowed_methods=frozenset({"GET", "HEAD"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.retry.backoff,
            backoff_max=self.retry.backoff_max,
            backoff_jitter=self.retry.backoff,
            respect_retry_after_header=True,
            retry_after_max=self.retry_after_max,  # type: ignore[arg-type]  # any seconds
            raise_on_status=False,  # the last 5xx reply comes back and names the reason
        )
        retry.limiter = self.limiter
        adapter = HTTPAdapter(
            pool_connections=4, pool_maxsize=self.pool_size, max_retries=retry, pool_block=False
        )
        session = requests.Session()
        session.headers.update(self.headers)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    # --- requests -----------------------------------------------------------------------

    def url(self, key: str) -> str:
        return self.uri + quote(key.lstrip("/"), safe="/~@!$&'()*+,;=:")

    def _request(self, method: str, key: str, *, stream: bool) -> requests.Response:
        """One request (urllib3 retries inside it); raises MissingFile or FetchError."""
        if self.limiter is not None:
            self.limiter.acquire()
        try:
            response = self.session().request(
                method, self.url(key), stream=stream, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise FetchError(f"timeout: {key}: {exc}") from exc
        except requests.ConnectionError as exc:
            raise FetchError(f"connection: {key}: {exc}") from exc
        except requests.RequestException as exc:
            raise FetchError(f"request_error: {key}: {exc}") from exc
        if response.status_code in (404, 410):
            response.close()
            raise MissingFile(f"missing: {key} (HTTP {response.status_code})")
        if response.status_code >= 400:
            response.close()
            raise FetchError(f"http_{response.status_code}: {key}")
        return response

    def open(self, key: str, *, max_bytes: int) -> BinaryIO:
        response = self._request("GET", key, stream=True)
        response.raw.decode_content = True
        return open_capped(
            response.raw,
            key=key,
            max_bytes=max_bytes,
            size=_content_length(response),
            # With a Content-Encoding the length counts encoded bytes; urllib3 checks it.
            encoded=response.headers.get("Content-Encoding", "identity").lower() != "identity",
            release=response.close,
            transient=_TRANSIENT,
            min_rate=self.min_rate,
            grace=self.timeout[1],
        )

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self._request("HEAD", key, stream=False)
        except MissingFile:
            return None
        except FetchError as exc:
            if not str(exc).startswith(("http_405", "http_501")):
                raise
            # A server that does not do HEAD: the headers of a GET, without its body.
            try:
                response = self._request("GET", key, stream=True)
            except MissingFile:
                return None
        response.close()
        return ObjectInfo(
            key,
            _content_length(response),
            _http_date(response.headers.get("Last-Modified")),
            (response.headers.get("ETag") or "").strip('"') or None,
        )

    # --- listing from directory index pages ---------------------------------------------

    def list(
        self, prefix: str = "", *, recursive: bool = True
    ) -> Generator[ObjectInfo, None, None]:
        folder, _, name_prefix = prefix.rpartition("/")
        yield from self._walk(f"{folder}/" if folder else "", name_prefix, recursive, False)

    def _walk(
        self, folder: str, name_prefix: str, recursive: bool, linked: bool
    ) -> Iterator[ObjectInfo]:
        try:
            page = self.index_page(folder)
        except MissingFile:
            if linked:  # its parent's page links it: the two pages disagree
                raise FetchError(
                    f"index_page: {self.url(folder)} is linked from its parent's index page "
                    "but missing"
                ) from None
            return  # no such folder: nothing under the prefix
        for name in sorted(
            n for n in _index_children(page, self.url(folder)) if n.startswith(name_prefix)
        ):
            if name.endswith("/"):
                if recursive:
                    yield from self._walk(folder + name, "", True, True)
            else:
                yield ObjectInfo(folder + name)

    def index_page(self, folder: str) -> bytes:
        """The directory index page of `folder`, read whole. A page carries no checksum, so
        it is checked: UTF-8 text ending with '</html>', and the same bytes on two reads in
        a row (a page garbled in transit, cut short or swapped for an error page would
        otherwise list fewer names without a word). One that fails is read again, within
        the bounded attempts; then FetchError 'index_page: ...' ends the listing."""
        url = self.url(folder)

        def attempt() -> bytes:
            page = self._get_once(folder, self.max_listing_bytes)
            _check_index_page(page, url)
            if self._get_once(folder, self.max_listing_bytes) != page:
                raise Retryable(f"index_page: {url} changed between two reads")
            return page

        return self.retry.call(attempt)


def _check_index_page(page: bytes, url: str) -> None:
    try:
        text = page.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Retryable(
            f"index_page: {url} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    if not text.rstrip().lower().endswith("</html>"):
        raise Retryable(f"index_page: {url} is not a whole HTML page (no closing </html>)")


def _index_children(page: bytes, folder_url: str) -> set[str]:
    """Names of the direct children linked from a directory index page ('sub/' for
    folders), ignoring sort links, parent links and anything outside the folder."""
    names = set()
    for link in lxml.html.document_fromstring(page).xpath("//a/@href"):
        target = urljoin(folder_url, link.strip())
        target = target.split("#", 1)[0].split("?", 1)[0]
        if not target.startswith(folder_url) or target == folder_url:
            continue
        name = unquote(target[len(folder_url) :])
        if name and "/" not in name.rstrip("/") and name not in ("./", "../"):
            names.add(name)
    return names


def _http_date(value: str | None) -> str | None:
    try:
        return iso_utc(parsedate_to_datetime(value)) if value else None
    except (TypeError, ValueError):
        return None  # an unreadable date is an unknown one


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None
