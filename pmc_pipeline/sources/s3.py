"""A store over an S3 prefix: the PMC Cloud Service bucket (anonymous), or any bucket and
any S3-compatible server.

boto3 finds its endpoint, credentials and region the usual way (environment,
~/.aws/config, instance roles); `AWS_ENDPOINT_URL_S3` points it at another S3 server,
as the tests do. botocore retries requests in adaptive mode (which also slows down when
S3 throttles); a body that breaks off mid-read is retried by the store's RetryPolicy.
"""

from __future__ import annotations

import http.client
from collections.abc import Generator
from typing import BinaryIO, cast

import urllib3

from pmc_pipeline.model import FetchError, MissingFile

from .ratelimit import RateLimiter
from .store import (
    ObjectInfo,
    ProcessLocalClient,
    RetryPolicy,
    Store,
    iso_utc,
    open_capped,
    transport_reason,
)

PMC_BUCKET = "pmc-oa-opendata"
PMC_REGION = "us-east-1"
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _transient() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError

    return (BotoCoreError, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


class S3Store(ProcessLocalClient, Store):
    """Objects under s3://bucket/prefix.

    anonymous: unsigned requests; None means "yes for the public PMC bucket, no elsewhere".
    region, endpoint_url, profile: as boto3 takes them (None: boto3's own defaults).
    timeout: (connect, read) seconds. attempts: botocore attempts per request, and
    RetryPolicy attempts per body. requests_per_second: an optional rate limit for this
    process (S3 states none; None or 0 means no limit). min_rate: bytes/s under which a
    body is abandoned and retried, once the read timeout has passed.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        anonymous: bool | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        attempts: int = 4,
        backoff: float = 0.5,
        backoff_max: float = 10.0,
        pool_size: int = 32,
        addressing_style: str | None = None,
        requests_per_second: float | None = None,
        min_rate: float | None = 1024.0,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 store needs a bucket")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.uri = f"s3://{bucket}/{self.prefix}"
        self.anonymous = bucket == PMC_BUCKET if anonymous is None else anonymous
        self.region = region or (PMC_REGION if bucket == PMC_BUCKET else None)
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.timeout = cast(tuple[float, float], tuple(timeout))
        self.retry = RetryPolicy(attempts=attempts, backoff=backoff, backoff_max=backoff_max)
        self.pool_size = pool_size
        self.addressing_style = addressing_style
        self.limiter = RateLimiter(requests_per_second) if requests_per_second else None
        self.min_rate = min_rate

    def client(self):
        # boto3 sessions are not thread-safe but clients are: one per process.
        return self._lazy_client(self._make_client)

    def _make_client(self):
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        options = dict(
            retries={"mode": "adaptive", "max_attempts": max(1, self.retry.attempts)},
            connect_timeout=self.timeout[0],
            read_timeout=self.timeout[1],
            max_pool_connections=self.pool_size,
            user_agent_extra="pmc_pipeline",
        )
        if self.anonymous:
            options["signature_version"] = UNSIGNED
        if self.addressing_style:
            options["s3"] = {"addressing_style": self.addressing_style}
        session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        client = session.client("s3", endpoint_url=self.endpoint_url, config=Config(**options))
        if self.limiter is not None:
            limiter = self.limiter

            def take_token(**_) -> None:
                # before-send fires for every HTTP request, botocore's retries included;
                # a handler that returned a value would stand in for the response.
                limiter.acquire()

            client.meta.events.register("before-send.s3", take_token)
        return client

    # --- requests -----------------------------------------------------------------------

    def _call(self, key: str, operation: str, **params):
        """One botocore call (retried inside botocore); raises MissingFile or FetchError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client(), operation)(Bucket=self.bucket, **params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            if code in _MISSING_CODES:
                raise MissingFile(f"missing: {key}") from exc
            raise FetchError(f"s3_{code}: {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise FetchError(f"{transport_reason(exc)}: {key}: {exc}") from exc

    def open(self, key: str, *, max_bytes: int) -> BinaryIO:
        response = self._call(key, "get_object", Key=self.prefix + key)
        return open_capped(
            response["Body"],
            key=key,
            max_bytes=max_bytes,
            size=response.get("ContentLength"),
            transient=_transient(),
            min_rate=self.min_rate,
            grace=self.timeout[1],
        )

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self._call(key, "head_object", Key=self.prefix + key)
        except MissingFile:
            return None
        modified = response.get("LastModified")
        return ObjectInfo(
            key,
            response.get("ContentLength"),
            iso_utc(modified) if modified else None,
            (response.get("ETag") or "").strip('"') or None,
        )

    def list(
        self, prefix: str = "", *, recursive: bool = True
    ) -> Generator[ObjectInfo, None, None]:
        from botocore.exceptions import BotoCoreError, ClientError

        params = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if not recursive:
            params["Delimiter"] = "/"
        try:
            for page in self.client().get_paginator("list_objects_v2").paginate(**params):
                for item in page.get("Contents", ()):
                    yield ObjectInfo(
                        item["Key"][len(self.prefix) :],
                        item.get("Size"),
                        iso_utc(item["LastModified"]) if item.get("LastModified") else None,
                        (item.get("ETag") or "").strip('"') or None,
                    )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            raise FetchError(f"s3_{code}: listing {prefix!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise FetchError(f"{transport_reason(exc)}: listing {prefix!r}: {exc}") from exc
