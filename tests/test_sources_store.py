"""The store contract (get, open, list, head; caps, md5, errors) on a directory, on HTTP and
on S3 (moto on 127.0.0.1, read anonymously), and each store's recovery from network faults."""

from __future__ import annotations

import contextlib
import io
import pickle
import time

import pytest
from helpers.servers import Faults, fault_proxy, serve_http, serve_s3
from helpers.sources_trees import jpeg_bytes, md5

from pmc_pipeline.model import FetchError, MissingFile, UnsafeInput
from pmc_pipeline.sources import ObjectInfo, RetryPolicy, open_store
from pmc_pipeline.sources.http import HttpStore, _PoliteRetry
from pmc_pipeline.sources.local import LocalStore
from pmc_pipeline.sources.ratelimit import NCBI_RATE, RateLimiter, default_rate
from pmc_pipeline.sources.s3 import S3Store
from pmc_pipeline.sources.store import CappedReader, Retryable, read_all

FILES = {
    "a/b/one.jpg": jpeg_bytes(1, 5000),
    "a/b/two.jpg": jpeg_bytes(2, 3000),
    "a/c.txt": b"c",
    "a-side.txt": b"dash sorts before slash",
    "top.json": b'{"x": 1}',
}
# Client settings that make faults quick to recover from (a slow reply times out fast).
FAST = {"timeout": (5.0, 0.5), "backoff": 0.05, "backoff_max": 0.2}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("tree")
    for key, data in FILES.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return root


@pytest.fixture(scope="module")
def http_url(tree):
    with serve_http(tree) as url:
        yield url


@pytest.fixture(scope="module")
def s3_endpoint(tree):
    with serve_s3(tree) as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "http", "s3"])
def store(request, tree, monkeypatch):
    if request.param == "local":
        return open_store(str(tree))
    if request.param == "http":
        return open_store(request.getfixturevalue("http_url"), **FAST)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", request.getfixturevalue("s3_endpoint"))
    return open_store("s3://pmc-oa-opendata", **FAST)


# --- the contract, on every store -------------------------------------------------------------


def test_get_returns_the_body_and_checks_md5(store):
    data = FILES["a/b/one.jpg"]
    assert store.get("a/b/one.jpg", max_bytes=10_000) == data
    assert store.get("a/b/one.jpg", max_bytes=len(data), md5=md5(data).upper()) == data


def test_get_reports_a_body_that_fails_its_md5(store):
    with pytest.raises(FetchError, match=r"^md5_mismatch: a/c.txt .*after \d+ attempts"):
        store.get("a/c.txt", max_bytes=100, md5="0" * 32)


def test_missing_objects(store):
    with pytest.raises(MissingFile, match="^missing: a/nope.jpg"):
        store.get("a/nope.jpg", max_bytes=100)
    with pytest.raises(MissingFile):
        store.open("nope/deeper.txt", max_bytes=100)
    assert store.head("a/nope.jpg") is None


def test_a_body_over_its_cap_is_refused(store):
    with pytest.raises(UnsafeInput, match="^too_large: a/b/one.jpg is 5000 bytes"):
        store.get("a/b/one.jpg", max_bytes=4999)
    with pytest.raises(UnsafeInput, match="too_large"):
        store.open("a/b/one.jpg", max_bytes=10)


def test_open_streams_the_body(store):
    with store.open("a/b/two.jpg", max_bytes=10_000) as stream:
        assert stream.read(10) == FILES["a/b/two.jpg"][:10]
        assert stream.read() == FILES["a/b/two.jpg"][10:]


def test_list_is_recursive_and_in_key_order(store):
    keys = [info.key for info in store.list("")]
    assert keys == sorted(FILES)
    assert [i.key for i in store.list("a/")] == ["a/b/one.jpg", "a/b/two.jpg", "a/c.txt"]
    assert [i.key for i in store.list("a/b/t")] == ["a/b/two.jpg"]
    assert [i.key for i in store.list("", recursive=False)] == ["a-side.txt", "top.json"]
    assert list(store.list("nothing/here/")) == []


def test_head_describes_an_object(store):
    info = store.head("a/b/one.jpg")
    assert isinstance(info, ObjectInfo)
    assert (info.key, info.size) == ("a/b/one.jpg", 5000)
    assert info.last_modified and info.last_modified.endswith("Z")


def test_stores_survive_pickling_after_use(store):
    store.get("a/c.txt", max_bytes=10)  # creates the session / client
    clone = pickle.loads(pickle.dumps(store))
    assert clone.get("a/c.txt", max_bytes=10) == b"c"
    assert clone.uri == store.uri


# --- faults --------------------------------------------------------------------------------


@pytest.fixture(params=["http", "s3"])
def faulty(request, tree, monkeypatch):
    """A function that serves the tree with the given Faults (over HTTP, or through a fault
    proxy in front of the module's S3 server) and opens a store on it."""
    stack = contextlib.ExitStack()
    request.addfinalizer(stack.close)

    def serve(faults, **options):
        if request.param == "http":
            url = stack.enter_context(serve_http(tree, faults))
            return open_store(url, **{**FAST, "retry_after_max": 0.2, **options})
        endpoint = request.getfixturevalue("s3_endpoint")
        monkeypatch.setenv(
            "AWS_ENDPOINT_URL_S3", stack.enter_context(fault_proxy(endpoint, faults))
        )
        return open_store("s3://pmc-oa-opendata", **{**FAST, **options})

    return serve


@pytest.mark.parametrize("kind", ["503", "reset", "truncate", "slow", "corrupt"])
def test_each_kind_of_first_attempt_fault_is_recovered(faulty, kind):
    serve = faulty
    faults = Faults(rate=1.0, kinds=(kind,), attempts=1, slow_seconds=1.0, retry_after=1)
    store = serve(faults)
    for key in ("a/b/one.jpg", "a/c.txt"):
        assert store.get(key, max_bytes=10_000, md5=md5(FILES[key])) == FILES[key]
    assert [i.key for i in store.list("a/")] == ["a/b/one.jpg", "a/b/two.jpg", "a/c.txt"]
    # Only files with a checksum are corrupted (see servers.CORRUPTIBLE).
    assert faults.count(kind) >= (1 if kind == "corrupt" else 3), faults.injected


@pytest.mark.parametrize("kind", ["503", "reset", "truncate", "corrupt"])
def test_permanent_faults_end_in_a_reason_after_bounded_attempts(faulty, kind):
    serve = faulty
    faults = Faults(rate=1.0, kinds=(kind,), attempts=1000, retry_after=0)
    store = serve(faults, attempts=3)
    with pytest.raises(FetchError) as caught:
        store.get("a/b/one.jpg", max_bytes=10_000, md5=md5(FILES["a/b/one.jpg"]))
    assert not isinstance(caught.value, MissingFile)
    codes = {
        "503": ("http_503", "s3_503", "s3_ServiceUnavailable", "s3_SlowDown"),
        "reset": ("connection",),
        "truncate": ("truncated", "connection"),
        "corrupt": ("md5_mismatch", "checksum_mismatch"),
    }[kind]
    assert str(caught.value).startswith(codes), str(caught.value)
    # Three body attempts, each with at most three tries of its request: bounded.
    requests = [p for _, _, p in faults.injected if "one.jpg" in p]
    assert 3 <= len(requests) <= 9


def test_a_stream_cut_short_raises_rather_than_ending_quietly(faulty):
    serve = faulty
    store = serve(Faults(rate=1.0, kinds=("truncate",), attempts=1))
    with pytest.raises(Retryable, match="^(truncated|connection): a/b/two.jpg"):
        with store.open("a/b/two.jpg", max_bytes=10_000) as stream:
            stream.read()
    # The caller retries the whole read; the next attempt is whole.
    with store.open("a/b/two.jpg", max_bytes=10_000) as stream:
        assert stream.read() == FILES["a/b/two.jpg"]


def test_a_trickling_body_is_abandoned_and_retried(faulty):
    serve = faulty
    faults = Faults(rate=1.0, kinds=("trickle",), attempts=1, slow_seconds=2.0)
    store = serve(faults, min_rate=100_000)
    data = FILES["a/b/one.jpg"]
    assert store.get("a/b/one.jpg", max_bytes=10_000, md5=md5(data)) == data
    assert faults.count("trickle") == 1


def test_capped_reader_enforces_a_minimum_rate_after_its_grace():
    class Slow(io.RawIOBase):
        def read(self, n=-1):
            time.sleep(0.02)
            return b"x"

    reader = CappedReader(Slow(), key="k", max_bytes=10**6, min_rate=1000, grace=0.05)
    with pytest.raises(Retryable, match=r"^timeout: k arrives at \d+ bytes/s, under 1000"):
        while reader.read(10):
            pass


def test_a_slow_reply_times_out_and_is_retried(faulty):
    serve = faulty
    faults = Faults(rate=1.0, kinds=("slow",), attempts=2, slow_seconds=1.0)
    store = serve(faults, attempts=4)
    assert store.get("a/c.txt", max_bytes=10) == b"c"
    assert faults.count("slow") == 2


# --- pieces --------------------------------------------------------------------------------


def test_capped_reader_refuses_past_its_cap_without_a_declared_size():
    reader = CappedReader(io.BytesIO(b"x" * 100), key="k", max_bytes=50)
    with pytest.raises(UnsafeInput, match="too_large: k"):
        read_all(io.BufferedReader(reader))


def test_capped_reader_reports_a_short_body_as_retryable():
    reader = CappedReader(io.BytesIO(b"x" * 10), key="k", max_bytes=50, expected=20)
    with pytest.raises(Retryable, match="truncated: k ended at 10 of 20"):
        read_all(io.BufferedReader(reader))


def test_capped_reader_turns_transport_errors_into_retryable():
    class Broken(io.RawIOBase):
        def read(self, n=-1):
            raise ConnectionResetError("reset by peer")

    reader = CappedReader(Broken(), key="k", max_bytes=50, transient=(OSError,))
    with pytest.raises(Retryable, match="^connection: k"):
        reader.read(10)


def test_retry_policy_is_bounded_and_keeps_the_last_reason():
    calls = []

    def attempt():
        calls.append(1)
        raise Retryable(f"timeout: try {len(calls)}")

    with pytest.raises(FetchError, match=r"timeout: try 3 \(after 3 attempts\)") as caught:
        RetryPolicy(attempts=3, backoff=0).call(attempt)
    assert len(calls) == 3 and not isinstance(caught.value, Retryable)


def test_retry_policy_does_not_retry_other_errors():
    calls = []

    def attempt():
        calls.append(1)
        raise UnsafeInput("too_large: x")

    with pytest.raises(UnsafeInput):
        RetryPolicy(attempts=5, backoff=0).call(attempt)
    assert len(calls) == 1


def test_rate_limiter_spaces_requests():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(3.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(7):
        limiter.acquire()
    # The first request goes at once; the next six wait one third of a second each.
    assert len(slept) == 6
    assert sum(slept) == pytest.approx(2.0)


def test_rate_limiter_lets_idle_time_pay_for_later_requests():
    now = [0.0]
    limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=lambda s: None)
    assert limiter.acquire() == 0
    now[0] += 10  # a long pause refills the bucket, but only up to its burst of one
    assert limiter.acquire() == 0
    assert limiter.acquire() == pytest.approx(0.5)


def test_ncbi_hosts_get_the_polite_default_rate():
    assert default_rate("https://ftp.ncbi.nlm.nih.gov/pub/pmc/") == NCBI_RATE
    assert default_rate("https://www.ncbi.nlm.nih.gov/pmc/") == NCBI_RATE
    assert default_rate("https://mirror.example.org/pmc/") is None
    assert HttpStore("https://ftp.ncbi.nlm.nih.gov/pub/pmc/").limiter.rate == NCBI_RATE
    assert HttpStore("https://ftp.ncbi.nlm.nih.gov/pub/pmc/", requests_per_second=0).limiter is None
    assert HttpStore("http://127.0.0.1:1/", requests_per_second=5).limiter.rate == 5


def test_http_retry_caps_retry_after_and_keeps_its_limiter_on_copies():
    store = HttpStore("http://127.0.0.1:1/", requests_per_second=10, retry_after_max=2)
    retry = store.session().get_adapter("http://127.0.0.1:1/").max_retries
    assert isinstance(retry, _PoliteRetry)
    assert retry.parse_retry_after("3600") == 2
    assert retry.new(total=1).limiter is store.limiter
    assert 503 in retry.status_forcelist and retry.backoff_jitter > 0


def test_open_store_dispatches_on_the_uri(tmp_path):
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert isinstance(open_store(tmp_path.as_uri()), LocalStore)
    assert isinstance(open_store("https://example.org/pmc"), HttpStore)
    s3 = open_store("s3://pmc-oa-opendata/some/prefix")
    assert isinstance(s3, S3Store) and s3.prefix == "some/prefix/" and s3.anonymous
    assert open_store("s3://my-bucket").anonymous is False
    with pytest.raises(TypeError, match="retry_after_max"):
        open_store("s3://pmc-oa-opendata", retry_after_max=3)
    with pytest.raises(TypeError, match="requests_per_second"):
        open_store(str(tmp_path), requests_per_second=3)
    with pytest.raises(ValueError, match="unsupported"):
        open_store("ftp://ftp.ncbi.nlm.nih.gov/pub/pmc")


def test_local_keys_cannot_leave_the_root(tmp_path):
    (tmp_path / "inside.txt").write_text("x")
    store = LocalStore(tmp_path / ".")
    with pytest.raises(FetchError, match="bad_key"):
        store.get("../outside.txt", max_bytes=10)


def test_s3_rate_limit_takes_a_token_per_request(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    store = open_store("s3://pmc-oa-opendata", requests_per_second=1000)
    taken = []
    original = store.limiter.acquire
    monkeypatch.setattr(store.limiter, "acquire", lambda: taken.append(1) or original())
    assert store.get("a/c.txt", max_bytes=10) == b"c"
    assert store.head("top.json").size == 8
    assert len(taken) == 2


def test_http_head_falls_back_to_get_when_the_server_refuses_head(tree):
    from helpers.servers import _FileHandler, _running, _Server

    class NoHead(_FileHandler):
        def do_HEAD(self):
            self.respond(405, {"Allow": "GET"}, b"")

    with _running(_Server(NoHead, None, root=tree)) as url:
        store = open_store(url)
        assert store.head("a/b/one.jpg").size == 5000
        assert store.head("a/nope.jpg") is None
