"""Loopback servers for tests that read PMC mirrors over the network, with fault injection.

    with serve_s3(mirror_dir) as endpoint:    # moto's S3 on 127.0.0.1, bucket pmc-oa-opendata
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        source = open_source("cloud", "s3://pmc-oa-opendata")
    with serve_http(mirror_dir, Faults(rate=0.2)) as base_url:
        source = open_source("legacy", base_url)

Both bind 127.0.0.1 only. These helpers do not depend on pytest, so any test module (or a
benchmark) can use them. With `faults`, a seeded share of request paths fail on their
first attempt(s) with one of: a 503 with Retry-After, a connection reset, a body cut
short of its Content-Length, a reply slower than the client's read timeout, or a body
whose bytes are changed (same length; at other places on each attempt, as damage in
transit is). S3 faults are injected by a proxy in front of moto. Damage at the source is
made by changing the served files themselves.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import html
import http.client
import logging
import mimetypes
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

BUCKET = "pmc-oa-opendata"
FAULT_KINDS = ("503", "reset", "truncate", "slow", "corrupt")
# "trickle" sends the body in ten pieces spread over slow_seconds: every read arrives
# within the read timeout, so only a client's minimum-rate rule ends it.
ALL_FAULT_KINDS = (*FAULT_KINDS, "trickle")
# Changed bytes are only detectable in files that carry a checksum: cloud images and XML
# (the metadata's ?md5=), gzip members (CRC32) and inventory parts (manifest md5). A
# flipped byte in a JSON or a CSV list is undetectable by any client, so it is not
# injected there; those files still get every other fault.
CORRUPTIBLE = r"\.(jpe?g|png|gif|tiff?|xml|nxml|gz)$"


@dataclass
class Faults:
    """Which requests fail, and how. A path is chosen with probability `rate` (seeded, so
    a run is reproducible) and then fails on its first `attempts` requests; `attempts` of
    1000 makes the fault permanent. `injected` records (kind, method, path) of each fault."""

    rate: float = 0.2
    kinds: tuple[str, ...] = FAULT_KINDS
    attempts: int = 1
    seed: int = 0
    retry_after: int = 1
    slow_seconds: float = 1.5
    corruptible: str = CORRUPTIBLE
    only: str | None = None  # a regex: only request paths matching it may fail
    injected: list[tuple[str, str, str]] = field(default_factory=list)
    _seen: Counter = field(default_factory=Counter, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(ALL_FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {ALL_FAULT_KINDS}")

    def _draw(self, *parts: str) -> float:
        digest = hashlib.sha256("\0".join((str(self.seed), *parts)).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def plan(self, method: str, path: str, has_body: bool) -> str | None:
        """The fault for this request, or None to answer it properly."""
        return self.plan_attempt(method, path, has_body)[0]

    def plan_attempt(self, method: str, path: str, has_body: bool) -> tuple[str | None, int]:
        """(the fault for this request or None, which request for this path it is: 1, 2...)."""
        if not self.kinds or self._draw("chosen", method, path) >= self.rate:
            return None, 0
        if self.only is not None and not re.search(self.only, path):
            return None, 0
        with self._lock:
            self._seen[(method, path)] += 1
            attempt = self._seen[(method, path)]
            if attempt > self.attempts:
                return None, attempt
        start = int(self._draw("kind", method, path) * len(self.kinds))
        for kind in self.kinds[start:] + self.kinds[:start]:
            if kind in ("truncate", "corrupt", "trickle") and not has_body:
                continue
            if kind == "corrupt" and not re.search(self.corruptible, urlsplit(path).path):
                continue
            with self._lock:
                self.injected.append((kind, method, path))
            return kind, attempt
        return None, attempt

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            return sum(1 for k, _, _ in self.injected if kind is None or k == kind)


class _FaultyHandler(BaseHTTPRequestHandler):
    """Answers through `respond`, which applies the server's Faults."""

    protocol_version = "HTTP/1.1"  # keep-alive, as real servers and pooled clients use
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK stall every keep-alive reply by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass

    @property
    def faults(self) -> Faults | None:
        return getattr(self.server, "faults", None)

    def respond(self, status: int, headers: dict[str, str], body: bytes) -> None:
        head_only = self.command == "HEAD"
        fault, attempt = (
            self.faults.plan_attempt(self.command, self.path, bool(body) and not head_only)
            if self.faults
            else (None, 0)
        )
        if fault == "reset":
            self._reset()
            return
        if fault == "503":
            self.send_response(503)
            self.send_header("Retry-After", str(self.faults.retry_after))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
        if fault == "corrupt":
            body = _corrupt(body, attempt)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if head_only:
                return
            if fault == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self._reset()
                return
            if fault == "trickle":
                step = max(1, -(-len(body) // 10))
                for start in range(0, len(body), step):
                    self.wfile.write(body[start : start + step])
                    self.wfile.flush()
                    time.sleep(self.faults.slow_seconds / 10)
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. after a slow reply)

    def _reset(self) -> None:
        """Close the connection with a TCP RST instead of a clean FIN."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


def _corrupt(body: bytes, attempt: int = 1) -> bytes:
    """The same length with bytes changed at a few places, other places on each attempt:
    damage in transit is random, so two attempts never get the same damaged bytes (a
    client may tell it from damage at the source that way)."""
    if not body:
        return body
    data = bytearray(body)
    shift = attempt - 1 if attempt > 1 else 0
    for at in {len(data) // 3, len(data) // 2, (2 * len(data)) // 3}:
        data[(at + shift) % len(data)] ^= 0xFF
    return bytes(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, faults: Faults | None, **attrs) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.faults = faults
        for name, value in attrs.items():
            setattr(self, name, value)

    def handle_error(self, request, client_address) -> None:
        pass  # clients that time out or reset are expected here


@contextlib.contextmanager
def _running(server: _Server) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- a static file server (legacy mirrors, or any tree over HTTP) ---------------------------


class _FileHandler(_FaultyHandler):
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        root: Path = self.server.root
        url_path = unquote(urlsplit(self.path).path)
        path = (root / url_path.lstrip("/")).resolve()
        if path != root and root not in path.parents:
            self.respond(404, {}, b"")
        elif path.is_dir():
            if not url_path.endswith("/"):
                self.respond(301, {"Location": quote(url_path) + "/"}, b"")
            else:
                self.respond(200, {"Content-Type": "text/html; charset=utf-8"}, _index(path))
        elif path.is_file():
            body = path.read_bytes()
            headers = {
                "Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                "Last-Modified": email.utils.formatdate(path.stat().st_mtime, usegmt=True),
                "ETag": f'"{hashlib.md5(body).hexdigest()}"',
            }
            self.respond(200, headers, body)
        else:
            self.respond(404, {}, b"")


def _index(folder: Path) -> bytes:
    """A directory index page like Apache's: one link per entry, folders ending in '/'."""
    links = []
    for entry in sorted(folder.iterdir()):
        name = entry.name + ("/" if entry.is_dir() else "")
        links.append(f'<a href="{quote(name)}">{html.escape(name)}</a>')
    body = "<html><body><h1>Index</h1>\n" + "<br>\n".join(links) + "\n</body></html>\n"
    return body.encode()


@contextlib.contextmanager
def serve_http(root_dir: str | Path, faults: Faults | None = None) -> Iterator[str]:
    """Serve `root_dir` on 127.0.0.1 (GET, HEAD, directory index pages); yields its base URL."""
    server = _Server(_FileHandler, faults, root=Path(root_dir).resolve())
    with _running(server) as url:
        yield url


# --- S3: moto's ThreadedMotoServer, and a fault proxy in front of it -------------------------


class _ProxyHandler(_FaultyHandler):
    _HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request_body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        try:
            upstream.request(self.command, self.path, request_body, dict(self.headers.items()))
            reply = upstream.getresponse()
            body = reply.read()
            headers = {k: v for k, v in reply.getheaders() if k.lower() not in self._HOP_BY_HOP}
        finally:
            upstream.close()
        self.respond(reply.status, headers, body)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward


@contextlib.contextmanager
def serve_s3(
    mirror_dir: str | Path, faults: Faults | None = None, *, bucket: str = BUCKET
) -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 whose bucket `bucket` holds `mirror_dir`'s tree as
    public-read objects (so anonymous clients can read it); yields the endpoint URL to put
    in AWS_ENDPOINT_URL_S3. With `faults`, the endpoint is a fault-injecting proxy."""
    import requests
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        # moto keeps its state per process: start from an empty S3 every time.
        requests.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
        upload_tree(endpoint, mirror_dir, bucket)
        if faults is None:
            yield endpoint
        else:
            with fault_proxy(endpoint, faults) as url:
                yield url
    finally:
        server.stop()


@contextlib.contextmanager
def fault_proxy(upstream_url: str, faults: Faults) -> Iterator[str]:
    """A proxy on 127.0.0.1 in front of `upstream_url` (e.g. a running serve_s3) that
    injects `faults`; yields its URL. Several proxies, each with its own faults, can share
    one upstream server."""
    parts = urlsplit(upstream_url)
    proxy = _Server(_ProxyHandler, faults, upstream=(parts.hostname, parts.port))
    with _running(proxy) as url:
        yield url


def upload_tree(endpoint: str, root_dir: str | Path, bucket: str = BUCKET) -> int:
    """Create `bucket` on the S3 server at `endpoint` and upload every file under root_dir
    (key = its relative path) with a public-read ACL; returns the number of objects."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket, ACL="public-read")
    root = Path(root_dir)
    files = sorted(p for p in root.rglob("*") if p.is_file())

    def put(path: Path) -> None:
        key = path.relative_to(root).as_posix()
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ACL="public-read")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, files))
    return len(files)


def main(argv: list[str] | None = None) -> int:
    """`python tests/helpers/servers.py s3|http DIR [--fault-rate R]`: serve DIR in this process
    (so that a benchmark's client and server do not share one interpreter), print the URL
    on the first line of stdout, and serve until stdin closes or the process is stopped."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("kind", choices=["s3", "http"])
    parser.add_argument("root")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    faults = Faults(rate=args.fault_rate, seed=args.seed) if args.fault_rate else None
    serve = serve_s3 if args.kind == "s3" else serve_http
    with serve(args.root, faults) as url:
        print(url, flush=True)
        sys.stdin.read()  # returns when the parent closes our stdin (or dies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
