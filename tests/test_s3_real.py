"""The storage benchmarks' ``s3-real``: a real bucket named by RADIBENCH_S3_URI, reached with the
AWS credentials of the environment (docs/s3.md).

The "real" S3 here is the local SeaweedFS server started with canary keys, as an AWS account
would hold them, and reached through the one real-S3 code path (radibench.storage.s3.RealS3:
AWS_ENDPOINT_URL, AWS_REGION, the AWS SDK's credential chain). The canary key id, secret and
session token appear in no output, cache, file or error message. Without the settings the
parameter is n/a naming what is missing; an endpoint that does not answer fails within seconds,
naming the endpoint, before anything is timed.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from radibench.prepare import storage as prepare_storage
from radibench.storage import s3
from radibench.storage.server import LocalS3Server

ROOT = Path(__file__).resolve().parent.parent
# Built at run time, split so that no scanner flags this file.
CANARY_ID = "AKIA" + "CANARYREAL7Q3XW0"
CANARY_SECRET = "canaryRealSecret/DoNotLeak+9e8d7c6b5a"
CANARY_TOKEN = "canaryRealSessionToken" + "0123456789abcdef"
CANARIES = (CANARY_ID, CANARY_SECRET, CANARY_TOKEN)
BUCKET, BASE = "real-bucket", "team/radibench"
AWS_VARIABLES = [
    "RADIBENCH_S3_URI",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
]

BENCHMARK_PROCESS = textwrap.dedent(
    """
    import json, pickle, sys, time
    from benchmarks.storage import S3VersusLocal

    cache = pickle.load(open(sys.argv[1], "rb"))
    bench = S3VersusLocal()
    bench.setup(cache, "s3-real", 0)
    S3VersusLocal.track_cold_start.setup(cache, "s3-real", 0)
    seconds = bench.track_cold_start(cache, "s3-real", 0)  # setup_cache's fresh process
    nbytes = bench.track_bytes_per_batch(cache, "s3-real", 0)
    try:
        S3VersusLocal.track_requests_per_batch.setup(cache, "s3-real", 0)
        requests = "counted"
    except NotImplementedError as exc:
        requests = f"n/a: {exc}"
    print(json.dumps({"first_batch_seconds": seconds, "bytes_per_batch": nbytes,
                      "requests": requests}))
    """
)


@pytest.fixture()
def no_aws(monkeypatch):
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


@pytest.fixture(scope="module")
def account():
    """A SeaweedFS server holding the canary keys: the stand-in for an S3 account."""
    with LocalS3Server(bucket=BUCKET, keys=(CANARY_ID, CANARY_SECRET)) as server:
        yield server


def real_env(endpoint: str, token: bool = True) -> dict[str, str]:
    """What a user sets. SeaweedFS refuses a session token it did not issue (InvalidAccessKeyId),
    so the runs that must authenticate against it go without one."""
    env = {
        "RADIBENCH_S3_URI": f"s3://{BUCKET}/{BASE}",
        "AWS_ACCESS_KEY_ID": CANARY_ID,
        "AWS_SECRET_ACCESS_KEY": CANARY_SECRET,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
    }
    return {**env, "AWS_SESSION_TOKEN": CANARY_TOKEN} if token else env


def bench():
    """The suite's storage benchmark (imported here: the checkout is on the path when pytest
    runs from it, as `python -m pytest` does)."""
    from benchmarks.storage import S3VersusLocal

    return S3VersusLocal()


def assert_no_canary(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for canary in CANARIES:
            assert canary.encode() not in data, f"a credential leaked: {data[:300]!r}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- not configured: n/a, naming the setting ------------------------------------------------------


def test_without_the_uri_s3_real_is_na_naming_it(no_aws, tmp_path):
    no_aws.setenv("AWS_ACCESS_KEY_ID", CANARY_ID)
    no_aws.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET)
    cache = {"problems": {}}
    prepare_storage.prepare_real_s3(cache, tmp_path, subjects=[])
    kind, message = cache["problems"]["s3-real"]
    assert kind == "n/a" and "RADIBENCH_S3_URI is not set" in message
    with pytest.raises(NotImplementedError, match="RADIBENCH_S3_URI") as err:
        bench().setup(cache, "s3-real", 0)
    assert_no_canary(message, str(err.value))
    assert list(tmp_path.iterdir()) == []  # nothing to clean up


def test_a_missing_credential_is_named_never_shown(no_aws):
    no_aws.setenv("RADIBENCH_S3_URI", f"s3://{BUCKET}/{BASE}")
    no_aws.setenv("AWS_ACCESS_KEY_ID", CANARY_ID)
    with pytest.raises(NotImplementedError, match="AWS_SECRET_ACCESS_KEY is not set") as err:
        s3.require_real_s3()
    assert_no_canary(str(err.value))
    no_aws.delenv("AWS_ACCESS_KEY_ID")
    with pytest.raises(NotImplementedError, match="no AWS credentials"):
        s3.require_real_s3()


# -- configured but broken: failed within seconds, naming the endpoint -------------------------


def _fails_fast(tmp_path, endpoint: str, says: str) -> str:
    cache = {"problems": {}}
    start = time.monotonic()
    prepare_storage.prepare_real_s3(cache, tmp_path, subjects=[])
    seconds = time.monotonic() - start
    kind, message = cache["problems"]["s3-real"]
    assert kind == "failed" and endpoint in message and says in message, message
    assert seconds < 10, f"{seconds:.1f} s: {message}"
    assert "s3_real_prefix" not in cache and list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="reaching real S3 failed") as err:
        bench().setup(cache, "s3-real", 0)
    assert_no_canary(message, str(err.value))
    print(f"{seconds:.1f} s: {message}")
    return message


def test_an_endpoint_that_refuses_fails_within_seconds_naming_it(no_aws, tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    for name, value in real_env(endpoint).items():
        no_aws.setenv(name, value)
    message = _fails_fast(tmp_path, endpoint, "is unreachable")
    assert "AWS_ENDPOINT_URL" in message


def test_an_endpoint_that_hangs_fails_within_seconds_naming_it(no_aws, tmp_path):
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        for name, value in real_env(endpoint).items():
            no_aws.setenv(name, value)
        _fails_fast(tmp_path, endpoint, "did not answer a LIST")


def test_wrong_credentials_are_named_never_shown(no_aws, tmp_path, account):
    for name, value in real_env(account.endpoint, token=False).items():
        no_aws.setenv(name, value)
    no_aws.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET + "-wrong")
    message = _fails_fast(tmp_path, account.endpoint, "HTTP 403")
    assert "AWS_SECRET_ACCESS_KEY" in message and "values are not shown" in message
    assert CANARY_SECRET + "-wrong" not in message


# -- configured: measured through the storage benchmark, then removed ----------------------------


def test_s3_real_measures_through_the_benchmark_and_is_removed(tmp_path, quick, data_root, account):
    """setup_cache (as asv runs it: its own process, cwd its folder; it times every storage in
    fresh processes), one benchmark process for s3-real, then asv removing the folder (the
    cache_cleanup plugin) removes the prefix."""
    import asv.util

    import radibench.asv_plugins.cache_cleanup  # noqa: F401 - wraps asv.util.long_path_rmtree

    client = account.settings.boto3_client()
    client.put_object(Bucket=BUCKET, Key=f"{BASE}/someone-elses", Body=b"keep")
    env = {**os.environ, **real_env(account.endpoint, token=False)}
    env.update(RADIBENCH_PROFILE="quick", RADIBENCH_DATA=str(data_root), PYTHONPATH=str(ROOT))
    env.update(RADIBENCH_PROCESSES="1")  # the timings' runs: one process per storage here
    env.pop("RADIBENCH_FRAMEWORKS", None)
    folder = tmp_path / "setup-cache"
    folder.mkdir()
    outputs = []

    start = time.monotonic()
    setup_cache = (
        "import pickle, sys\nfrom benchmarks.storage import S3VersusLocal\n"
        "pickle.dump(S3VersusLocal().setup_cache(), open(sys.argv[1], 'wb'))\n"
    )
    cache_file = tmp_path / "cache.pickle"
    proc = subprocess.run(
        [sys.executable, "-c", setup_cache, str(cache_file)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    outputs += [proc.stdout, proc.stderr]
    assert proc.returncode == 0, proc.stderr[-3000:]
    cache = pickle.loads(cache_file.read_bytes())
    assert not cache["problems"], cache["problems"]  # every storage measured, real S3 too
    prefix = cache["s3_real_prefix"]
    assert prefix.startswith(f"{BASE}/radibench-")
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    assert listed["KeyCount"] > 0  # this commit's RadiObject ingested into the account
    print(f"setup_cache: {time.monotonic() - start:.1f} s, {listed['KeyCount']} objects")

    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", BENCHMARK_PROCESS, str(cache_file)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    outputs += [proc.stdout, proc.stderr]
    assert proc.returncode == 0, proc.stderr[-3000:]
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"benchmark process: {time.monotonic() - start:.1f} s, {measured}")
    assert 0 < measured["first_batch_seconds"] < 120
    assert measured["bytes_per_batch"] > 0
    assert measured["requests"].startswith("n/a: requests to real S3 are not counted")

    # Everything the run left in its folder, before asv removes it, holds no credential.
    kept = [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    assert (folder / s3.CLEANUP_MARKER).is_file() and len(kept) > 10
    for name, value in real_env(account.endpoint, token=False).items():
        os.environ[name] = value  # asv's own process holds what the run was given
    try:
        asv.util.long_path_rmtree(str(folder), True)  # what asv does after the last benchmark
    finally:
        for name in real_env(account.endpoint):
            os.environ.pop(name, None)
    assert not folder.exists()
    assert client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")["KeyCount"] == 0
    assert client.get_object(Bucket=BUCKET, Key=f"{BASE}/someone-elses")["Body"].read() == b"keep"
    assert_no_canary(*outputs, *kept, cache_file.read_bytes(), repr(cache))


def test_the_removal_command_touches_only_a_run_prefix(no_aws, account):
    for name, value in real_env(account.endpoint, token=False).items():
        no_aws.setenv(name, value)
    settings = s3.require_real_s3()
    with pytest.raises(s3.RealS3Error, match="not a radibench run's prefix"):
        s3.remove_run(settings)  # the base prefix itself: never
    run = "radibench-20260101T000000Z-0123abcd"
    for uri in ["s3://other-bucket/x", f"s3://{BUCKET}/{BASE}-sibling/{run}"]:
        outside = subprocess.run(
            [sys.executable, "-m", "radibench.storage.s3", "remove", uri],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert outside.returncode == 1 and "is not under RADIBENCH_S3_URI" in outside.stderr
        assert_no_canary(outside.stdout, outside.stderr)
