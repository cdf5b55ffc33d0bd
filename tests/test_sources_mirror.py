"""End to end on synthetic mirrors (pmc_pipeline.mirror): the cloud layout from moto's S3
server and the legacy layout from an HTTP server, both on 127.0.0.1 and both injecting
faults; and mirrors built from the real JATS fixtures (--jats ../shared/fixtures/jats),
where every graphic must pair with its image."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers.paths import shared_fixture
from helpers.servers import Faults, serve_http, serve_s3

from pmc_pipeline.jats import parse_article
from pmc_pipeline.mirror import TRUTH_NAME, write_mirror
from pmc_pipeline.model import FetchError, Layout, MissingFile, UnsafeInput
from pmc_pipeline.sources import open_source

pytestmark = pytest.mark.slow

SMALL = {"pdf_scale": 0.05, "supplement_scale": 0.05, "workers": 2}
# Quick to recover: a slow reply times out after half a second; backoff stays short.
FAST_HTTP = {"timeout": (5, 0.5), "backoff": 0.05, "backoff_max": 0.2, "retry_after_max": 0.5}
FAST_S3 = {"timeout": (5, 0.5), "backoff": 0.05, "backoff_max": 0.2}


def mirror(tmp_path_factory, layout: str, **options):
    root = tmp_path_factory.mktemp(f"mirror-{layout}")
    write_mirror(root, layout, options.pop("n_articles", None), 5, **{**SMALL, **options})
    return root


@pytest.fixture(scope="module")
def cloud_mirror(tmp_path_factory):
    return mirror(tmp_path_factory, Layout.CLOUD, n_articles=30)


@pytest.fixture(scope="module")
def legacy_mirror(tmp_path_factory):
    return mirror(tmp_path_factory, Layout.LEGACY, n_articles=30)


def truth(root) -> dict[str, dict]:
    """The mirror's own record of each article version: key -> entry."""
    return {a["key"]: a for a in json.loads((root / TRUTH_NAME).read_text())["articles"]}


def fetch_article(source, ref) -> tuple:
    """('ok', {figure id: (file name, md5)}) or ('error', reason code): what extract would
    end with for this article, images included."""
    try:
        files = source.open_article(ref)
        images = {}
        for figure in parse_article(files.xml()).figures:
            if figure.image_href is not None:
                try:
                    name, data = files.image(figure.image_href)
                except MissingFile:  # neither image nor thumbnail: extract records no_image
                    images[figure.id] = (None, None)
                    continue
                images[figure.id] = (name.rsplit("/", 1)[-1], hashlib.md5(data).hexdigest())
        return "ok", images
    except (FetchError, UnsafeInput) as exc:
        return "error", str(exc).split(":", 1)[0]


def fetch_all(source, workers: int = 8) -> dict[str, tuple]:
    refs = list(source.list_articles())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = pool.map(lambda ref: fetch_article(source, ref), refs)
        return {ref.key: outcome for ref, outcome in zip(refs, outcomes, strict=True)}


def check_against_truth(outcomes: dict[str, tuple], root) -> None:
    """Every newest version arrived, each figure with the file the mirror made for it."""
    expected = {k: a for k, a in truth(root).items() if a.get("latest", True)}
    assert sorted(outcomes) == sorted(expected)
    for key, (status, images) in outcomes.items():
        assert status == "ok", (key, images)
        for figure in expected[key]["figures"]:
            if figure["graphics"]:
                # A missing image falls back to its thumbnail; with none, nothing arrives.
                wanted = figure["thumbnail_file"] if figure["missing"] else figure["image_file"]
                assert images[figure["id"]][0] == wanted, (key, figure["id"])


def test_cloud_mirror_from_s3_arrives_whole_through_faults(cloud_mirror, monkeypatch):
    baseline = fetch_all(open_source(Layout.CLOUD, str(cloud_mirror)))
    check_against_truth(baseline, cloud_mirror)
    faults = Faults(rate=0.2, seed=11, slow_seconds=1.0)
    with serve_s3(cloud_mirror, faults) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        source = open_source(Layout.CLOUD, "s3://pmc-oa-opendata", **FAST_S3)
        assert fetch_all(source) == baseline
    kinds = Counter(kind for kind, _, _ in faults.injected)
    assert len(kinds) >= 4 and sum(kinds.values()) >= 20, kinds


def test_legacy_mirror_from_http_arrives_whole_through_faults(legacy_mirror):
    baseline = fetch_all(open_source(Layout.LEGACY, str(legacy_mirror)))
    check_against_truth(baseline, legacy_mirror)
    faults = Faults(rate=0.2, seed=11, slow_seconds=1.0)
    with serve_http(legacy_mirror, faults) as url:
        assert fetch_all(open_source(Layout.LEGACY, url, **FAST_HTTP)) == baseline
    kinds = Counter(kind for kind, _, _ in faults.injected)
    assert len(kinds) >= 4 and sum(kinds.values()) >= 5, kinds


@pytest.mark.parametrize("layout", [Layout.CLOUD, Layout.LEGACY])
def test_permanent_faults_end_every_article_with_a_reason(layout, cloud_mirror, legacy_mirror):
    """Paths that never recover: each article still ends, fetched or with a reason, after
    a bounded number of requests."""
    root = cloud_mirror if layout == Layout.CLOUD else legacy_mirror
    faults = Faults(
        rate=0.15,
        seed=2,
        attempts=1000,
        kinds=("503", "reset", "truncate"),
        only=r"^/(PMC|metadata/|oa_package/)",  # articles' files, not the listings
    )
    with serve_http(root, faults) as url:
        outcomes = fetch_all(open_source(layout, url, **{**FAST_HTTP, "attempts": 3}))
    statuses = Counter(status for status, _ in outcomes.values())
    reasons = Counter(reason for status, reason in outcomes.values() if status == "error")
    assert statuses["ok"] > 0 and statuses["error"] > 0, statuses
    assert set(reasons) <= {"http_503", "connection", "truncated", "timeout"}, reasons
    per_path = Counter(path for _, _, path in faults.injected)
    assert max(per_path.values()) <= 9  # 3 body attempts x 3 tries of each request


@pytest.fixture(scope="module", params=[Layout.CLOUD, Layout.LEGACY])
def jats_mirror(request, tmp_path_factory):
    jats_dir = shared_fixture("jats")
    return request.param, mirror(tmp_path_factory, request.param, jats_dir=jats_dir)


def test_mirror_of_real_jats_pairs_every_graphic(jats_mirror):
    layout, root = jats_mirror
    source = open_source(layout, str(root))
    outcomes = fetch_all(source)
    check_against_truth(outcomes, root)
    # Every graphic of every figure (thumbnail hrefs included) resolves to an image file,
    # and the href of the full image never to a thumbnail when a full image exists.
    paired = 0
    for ref in source.list_articles():
        files = source.open_article(ref)
        for figure in parse_article(files.xml()).figures:
            for graphic in figure.graphics:
                try:
                    files.image(graphic.href)
                    paired += 1
                except MissingFile as exc:
                    pytest.fail(f"{ref.key} {figure.id} {graphic.href}: {exc}")
    assert paired >= 307
