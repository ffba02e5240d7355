"""S3 settings for the benchmarks: a throw-away local server's, or real S3's when asked for.

One settings object says how TileDB, radiobject and boto3 reach a bucket (endpoint, region,
addressing, timeouts, and for a local server its dummy keys). Nothing here contacts an address
other than 127.0.0.1 unless the user sets ``RADIBENCH_S3_URI`` for real-S3 runs.

Credentials: a local server gets fresh random dummy keys per run (radibench.storage.server).
Settings objects mask keys in ``repr``. For real S3 the keys are never read into settings:
TileDB's AWS SDK and boto3 take them from the standard chain (environment or AWS_PROFILE);
``scrub`` reads their values only to mask them in messages.

Real S3 (the storage benchmarks' ``s3-real``): settings from ``RADIBENCH_S3_URI`` and the AWS
environment (``RealS3``), a fresh prefix per setup_cache (``for_run``), a bounded check that the
endpoint answers before anything is timed (``probe``), and the prefix removed when asv removes
the setup_cache folder (``leave_cleanup``, ``python -m radibench.storage.s3 remove URI``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

#: Set in every process that talks to S3: without it boto3 and the AWS C++ SDK probe the EC2
#: metadata address (off-host traffic and seconds of delay) when they look for credentials.
SAFE_ENV = {"AWS_EC2_METADATA_DISABLED": "true"}

REAL_S3_HINT = (
    "set RADIBENCH_S3_URI=s3://bucket/prefix and AWS credentials (AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) to run these benchmarks against real S3"
)

# TileDB (libtiledb 2.30) defaults retry a refused connection for ~1.5 s and wait 3 s per stalled
# request per try; against a local server an error must surface at once, not after retries that
# would also hide inside the timings. Measured: nothing listening -> fails in ~10 ms; a server that
# accepts and never answers -> fails after ~4 x request_timeout_ms (TileDB retries per operation).
LOCAL_TIMEOUTS = {
    "vfs.s3.connect_timeout_ms": "2000",
    "vfs.s3.connect_max_tries": "1",
    "vfs.s3.request_timeout_ms": "5000",
}
# Real networks have transient errors worth one SDK retry; keep connects bounded all the same.
REAL_TIMEOUTS = {
    "vfs.s3.connect_timeout_ms": "5000",
    "vfs.s3.connect_max_tries": "3",
    "vfs.s3.request_timeout_ms": "10000",
}


def mask(text: str, secrets_: list[str]) -> str:
    for value in secrets_:
        if value:
            text = text.replace(value, "***")
    return text


@dataclass(frozen=True, repr=False)
class S3Settings:
    """Where the benchmark data lives in S3 and how TileDB/radiobject/boto3 should reach it.

    ``access_key``/``secret_key`` are set only for local servers (dummy keys); ``None`` means
    "use the standard AWS credential chain" (real S3).
    """

    bucket: str
    prefix: str = ""
    endpoint: str | None = None  # "http://127.0.0.1:PORT"; None = AWS itself
    region: str = "us-east-1"
    virtual_addressing: bool = False
    access_key: str | None = field(default=None, compare=False)
    secret_key: str | None = field(default=None, compare=False)
    timeouts: Mapping[str, str] = field(default_factory=lambda: dict(LOCAL_TIMEOUTS))

    def __repr__(self) -> str:
        keys = "***" if self.access_key else "from AWS chain"
        return (
            f"S3Settings(bucket={self.bucket!r}, prefix={self.prefix!r}, "
            f"endpoint={self.endpoint!r}, region={self.region!r}, keys={keys})"
        )

    __str__ = __repr__

    def uri(self, *parts: str) -> str:
        """``s3://bucket/prefix/part/...``."""
        path = "/".join(p.strip("/") for p in (self.prefix, *parts) if p and p.strip("/"))
        return f"s3://{self.bucket}/{path}" if path else f"s3://{self.bucket}"

    def via(self, endpoint: str) -> S3Settings:
        """The same bucket and keys reached through another endpoint (e.g. the netem proxy)."""
        return replace(self, endpoint=endpoint)

    def tiledb_config(self) -> dict[str, str]:
        """Config dict for ``tiledb.Config``/``tiledb.Ctx``."""
        cfg = {
            "vfs.s3.region": self.region,
            "vfs.s3.use_virtual_addressing": "true" if self.virtual_addressing else "false",
            **self.timeouts,
        }
        if self.endpoint:
            scheme, _, hostport = self.endpoint.partition("://")
            cfg["vfs.s3.scheme"] = scheme
            cfg["vfs.s3.endpoint_override"] = hostport.rstrip("/")
        if self.access_key:
            cfg["vfs.s3.aws_access_key_id"] = self.access_key
            cfg["vfs.s3.aws_secret_access_key"] = self.secret_key or ""
        return cfg

    def tiledb_env(self) -> dict[str, str]:
        """The same settings as ``TILEDB_VFS_S3_*`` environment variables.

        Every ``tiledb.Config()`` reads them as defaults, so they reach radiobject's own contexts
        and spawned DataLoader workers, which do not inherit ``radiobject.configure()``.
        """
        env = {"TILEDB_" + k.upper().replace(".", "_"): v for k, v in self.tiledb_config().items()}
        return {**SAFE_ENV, **env}

    def radiobject_s3config_kwargs(self) -> dict:
        """Keyword arguments for ``radiobject.ctx.S3Config``.

        ``include_credentials=False``: radiobject would otherwise copy whatever boto3 finds in
        the environment (possibly the user's real keys) into its config; the keys come from
        ``tiledb_env()`` (local) or the AWS SDK's own chain (real S3) instead.
        """
        kwargs = {
            "region": self.region,
            "use_virtual_addressing": self.virtual_addressing,
            "include_credentials": False,
        }
        if self.endpoint:
            kwargs["endpoint"] = self.endpoint
        return kwargs

    def process_env(self) -> dict[str, str | None]:
        """What ``applied``/``apply`` put into ``os.environ`` (None: removed).

        ``tiledb_env()`` plus, for a local server, its dummy keys as AWS_* variables: radiobject's
        default config (in spawned DataLoader workers, which do not inherit ``configure()``)
        copies boto3's credentials into every context, and those must be the server's keys, not
        whatever real ones the environment holds.
        """
        env: dict[str, str | None] = dict(self.tiledb_env())
        if self.access_key:
            env.update(
                AWS_ACCESS_KEY_ID=self.access_key,
                AWS_SECRET_ACCESS_KEY=self.secret_key,
                AWS_SESSION_TOKEN=None,
                AWS_SECURITY_TOKEN=None,
                AWS_PROFILE=None,
                AWS_DEFAULT_PROFILE=None,
            )
        return env

    def apply(self) -> dict[str, str | None]:
        """Export ``process_env()`` into ``os.environ``; returns the old values for ``restore``."""
        env = self.process_env()
        old = {k: os.environ.get(k) for k in env}
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return old

    @staticmethod
    def restore(old: Mapping[str, str | None]) -> None:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Temporarily ``apply`` these settings to ``os.environ``."""
        old = self.apply()
        try:
            yield
        finally:
            self.restore(old)

    @property
    def endpoint_url(self) -> str:
        """The endpoint requests go to, for messages: the override, or AWS's regional one."""
        return self.endpoint or f"https://s3.{self.region}.amazonaws.com"

    def boto3_client(self, read_timeout: float = 30, attempts: int = 2):
        """A boto3 S3 client: path-style, short timeouts, few retries."""
        import boto3
        from botocore.config import Config

        os.environ.update(SAFE_ENV)
        kwargs = {}
        if self.access_key:
            kwargs = {
                "aws_access_key_id": self.access_key,
                "aws_secret_access_key": self.secret_key,
            }
        return boto3.session.Session(**kwargs).client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            config=Config(
                s3={"addressing_style": "virtual" if self.virtual_addressing else "path"},
                connect_timeout=3,
                read_timeout=read_timeout,
                retries={"max_attempts": attempts, "mode": "standard"},
            ),
        )


# ---------------------------------------------------------------------------------------------
# Real S3


def real_s3_missing(environ: Mapping[str, str] | None = None) -> str | None:
    """What is missing to run against real S3, naming each variable, or None when everything is
    set. Looks only at whether variables are present, never at their values beyond the URI."""
    env = os.environ if environ is None else environ
    uri = env.get("RADIBENCH_S3_URI", "")
    problems = []
    if not uri:
        problems.append("RADIBENCH_S3_URI is not set")
    elif not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?", uri):
        problems.append("RADIBENCH_S3_URI must look like s3://bucket/prefix")
    key_id, secret = bool(env.get("AWS_ACCESS_KEY_ID")), bool(env.get("AWS_SECRET_ACCESS_KEY"))
    if key_id != secret:
        have, lack = (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            if key_id
            else ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
        )
        problems.append(f"{lack} is not set (only {have} is)")
    elif not key_id and not env.get("AWS_PROFILE"):
        problems.append(
            "no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
        )
    if not problems:
        return None
    return "; ".join(problems) + ": " + REAL_S3_HINT


def require_real_s3(environ: Mapping[str, str] | None = None) -> S3Settings:
    """Real-S3 settings, or NotImplementedError (asv: "n/a") saying what to set."""
    settings = RealS3.from_env(environ)
    if settings is None:
        raise NotImplementedError(real_s3_missing(environ))
    return settings


class RealS3:
    """Settings for real S3 from ``RADIBENCH_S3_URI`` and the standard AWS environment.

    Region from AWS_REGION/AWS_DEFAULT_REGION (default us-east-1); an S3-compatible provider
    via AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL. Credentials stay with the AWS SDK's chain.
    """

    @staticmethod
    def from_env(environ: Mapping[str, str] | None = None) -> S3Settings | None:
        env = os.environ if environ is None else environ
        if real_s3_missing(env) is not None:
            return None
        bucket, _, prefix = env["RADIBENCH_S3_URI"][len("s3://") :].partition("/")
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None
        return S3Settings(
            bucket=bucket,
            prefix=prefix.strip("/"),
            endpoint=endpoint,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            virtual_addressing=endpoint is None,
            timeouts=dict(REAL_TIMEOUTS),
        )

    missing = staticmethod(real_s3_missing)


# ---------------------------------------------------------------------------------------------
# One benchmark run's data in real S3: a fresh prefix, checked before use, removed afterwards

#: The variables whose values must never appear in a message (radibench check-results also
#: scans results for them).
SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
#: A run's own prefix under RADIBENCH_S3_URI; nothing else is ever removed.
RUN_PREFIX = re.compile(r"radibench-\d{8}T\d{6}Z-[0-9a-f]{8}")
#: Left in a setup_cache folder: what asv's process runs when asv removes that folder
#: (radibench/asv_plugins/cache_cleanup.py reads it).
CLEANUP_MARKER = ".radibench-on-removal.json"
PROBE_SECONDS = 3.0


class RealS3Error(RuntimeError):
    """Real S3 cannot be used as configured; the message names the endpoint, never a secret."""


def scrub(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with the values of the credential variables replaced by ***."""
    env = os.environ if environ is None else environ
    return mask(text, [env.get(name, "") for name in SECRET_VARIABLES])


def for_run(settings: S3Settings) -> S3Settings:
    """The same bucket under a prefix of its own: ``<prefix>/radibench-<UTC time>-<random>``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run = f"radibench-{stamp}-{secrets.token_hex(4)}"
    return replace(settings, prefix="/".join(p for p in (settings.prefix, run) if p))


def probe(settings: S3Settings, seconds: float = PROBE_SECONDS) -> None:
    """Raise RealS3Error within seconds unless the endpoint answers and lists the prefix: a
    TCP connect, then one signed LIST (what TileDB needs first). Messages name the endpoint
    and bucket and say what to check; credentials appear by name only."""
    from botocore.exceptions import BotoCoreError, ClientError

    endpoint = settings.endpoint_url
    url = urllib.parse.urlsplit(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    start = time.monotonic()
    try:
        socket.create_connection((url.hostname, port), timeout=seconds).close()
    except OSError as exc:
        raise RealS3Error(
            f"S3 endpoint {endpoint} is unreachable ({exc.strerror or exc.__class__.__name__}, "
            f"after {time.monotonic() - start:.1f} s): check AWS_ENDPOINT_URL (or AWS_REGION for "
            "AWS itself) and this machine's network; nothing was measured"
        ) from None
    client = settings.boto3_client(read_timeout=seconds, attempts=1)
    where = f"bucket {settings.bucket!r} at {endpoint}"
    try:
        client.list_objects_v2(Bucket=settings.bucket, Prefix=settings.prefix, MaxKeys=1)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "?")
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        hint = {
            403: "check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
            "AWS_SESSION_TOKEN or AWS_PROFILE; their values are not shown) and that they may "
            "list, read, write and delete under RADIBENCH_S3_URI",
            404: "check the bucket named in RADIBENCH_S3_URI (and AWS_REGION)",
        }.get(status, "check RADIBENCH_S3_URI, AWS_REGION and AWS_ENDPOINT_URL")
        raise RealS3Error(
            scrub(f"{where} refused a LIST ({code}, HTTP {status}): {hint}")
        ) from None
    except BotoCoreError as err:
        raise RealS3Error(
            scrub(
                f"{where} did not answer a LIST ({err.__class__.__name__}, "
                f"{seconds:.0f} s timeout): check AWS_ENDPOINT_URL (or AWS_REGION) and this "
                "machine's network"
            )
        ) from None


def remove_run(settings: S3Settings) -> int:
    """Delete every object under the run's prefix (and nothing else: the last part of the
    prefix must be a RUN_PREFIX); returns how many were deleted."""
    if not RUN_PREFIX.fullmatch(settings.prefix.rsplit("/", 1)[-1]):
        raise RealS3Error(f"refusing to remove {settings.uri()}: not a radibench run's prefix")
    client = settings.boto3_client()
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=settings.bucket, Prefix=settings.prefix + "/"
    )
    keys = [{"Key": item["Key"]} for page in pages for item in page.get("Contents", [])]
    for i in range(0, len(keys), 1000):  # the most one DeleteObjects takes
        answer = client.delete_objects(
            Bucket=settings.bucket, Delete={"Objects": keys[i : i + 1000], "Quiet": True}
        )
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise RealS3Error(
                f"{len(answer['Errors'])} objects under {settings.uri()} were not deleted "
                f"(first: {first.get('Key')}: {first.get('Code')})"
            )
    return len(keys)


def leave_cleanup(folder: Path, settings: S3Settings) -> Path:
    """Ask asv's process to remove the run's prefix when asv removes `folder` (the setup_cache
    folder, once the last benchmark that reads it is done). Only the URI is written down; the
    command reads the credentials from its environment, as this process did."""
    from radibench import REPO_ROOT

    marker = Path(folder) / CLEANUP_MARKER
    marker.write_text(
        json.dumps(
            {
                "what": f"removing {settings.uri()}",
                "argv": [sys.executable, "-m", "radibench.storage.s3", "remove", settings.uri()],
                "env": {"PYTHONPATH": str(REPO_ROOT), **SAFE_ENV},
            }
        )
    )
    return marker


def main(argv: list[str] | None = None) -> int:
    """``python -m radibench.storage.s3 remove s3://bucket/prefix/radibench-...``: delete one
    run's objects, with the settings of RADIBENCH_S3_URI and the AWS environment."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "remove":
        print("usage: python -m radibench.storage.s3 remove s3://bucket/prefix", file=sys.stderr)
        return 2
    try:
        settings = require_real_s3()
        bucket, _, prefix = args[1].removeprefix("s3://").partition("/")
        under = settings.prefix + "/" if settings.prefix else ""
        if bucket != settings.bucket or not prefix.strip("/").startswith(under):
            raise RealS3Error(f"{args[1]} is not under RADIBENCH_S3_URI ({settings.uri()})")
        deleted = remove_run(replace(settings, prefix=prefix.strip("/")))
    except Exception as exc:  # noqa: BLE001 - reported, scrubbed, as the command's outcome
        print(scrub(f"could not remove {args[1]}: {exc!r}"), file=sys.stderr)
        return 1
    print(f"removed {deleted} objects under {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
