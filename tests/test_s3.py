"""The local S3 server's lifecycle, TileDB/radiobject round trips over it, and secret hygiene.

radiobject runs in a subprocess: ``configure()`` is global state that other tests must not
inherit, and a subprocess proves the TILEDB_VFS_S3_* environment alone reaches radiobject's
contexts (as in spawned DataLoader workers).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from radibench.storage import process, s3
from radibench.storage.netem import NetemProxy
from radibench.storage.s3 import RealS3, S3Settings
from radibench.storage.server import LocalS3Server, PortInUseError, S3ServerError

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

CANARY_ID = "AKIA" + "CANARY7Q3XWZ0000"  # split: a fake key id no scanner should flag
CANARY_SECRET = "canarySecret/DoNotLeak+7f3a9c1e0b2d4f6a8c"


@pytest.fixture(scope="module")
def server():
    with LocalS3Server() as srv:
        yield srv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes once it is not running.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def _tiledb_roundtrip(settings: S3Settings, name: str) -> np.ndarray:
    import tiledb

    ctx = tiledb.Ctx(settings.tiledb_config())
    uri = settings.uri(name)
    data = np.arange(24 * 20, dtype=np.float32).reshape(24, 20)
    dom = tiledb.Domain(
        tiledb.Dim("x", domain=(0, 23), tile=8, dtype=np.int32, ctx=ctx),
        tiledb.Dim("y", domain=(0, 19), tile=10, dtype=np.int32, ctx=ctx),
        ctx=ctx,
    )
    schema = tiledb.ArraySchema(dom, attrs=[tiledb.Attr("v", dtype=np.float32, ctx=ctx)], ctx=ctx)
    tiledb.Array.create(uri, schema, ctx=ctx)
    with tiledb.open(uri, "w", ctx=ctx) as arr:
        arr[:] = data
    with tiledb.open(uri, ctx=ctx) as arr:
        back = arr[:]["v"]
    np.testing.assert_array_equal(back, data)
    return back


# -- lifecycle -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["seaweedfs", "moto"])
def test_start_bucket_stop(kind):
    srv = LocalS3Server(kind=kind, bucket="life")
    with srv:
        pid, tmp = srv.proc.pid, srv._tmpdir
        assert srv.alive() and Path(tmp).is_dir()
        client = srv.settings.boto3_client()
        client.head_bucket(Bucket="life")  # raises if the bucket does not exist
        client.put_object(Bucket="life", Key="k", Body=b"hello")
        assert client.get_object(Bucket="life", Key="k")["Body"].read() == b"hello"
        assert srv.start_seconds < 30
        port = srv.port
    assert srv.proc is None and not _pid_alive(pid)
    assert not Path(tmp).exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more


def test_explicit_port_in_use_fails_clearly():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(PortInUseError, match=f"port {port} .* already in use"):
            LocalS3Server(port=port).start()
        assert time.monotonic() - t0 < 5


def test_port_taken_meanwhile_picks_another(monkeypatch):
    """The kernel-picked port can be taken between our check and the server's bind: retry."""
    real = process.free_ports
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        calls = []

        def first_one_taken(n):
            ports = real(n)
            if not calls:
                ports[-1] = taken  # the S3 port is popped from the end
            calls.append(n)
            return ports

        monkeypatch.setattr(process, "free_ports", first_one_taken)
        with LocalS3Server() as srv:
            assert srv.port != taken and len(calls) == 2
            srv.settings.boto3_client().head_bucket(Bucket=srv.bucket)


def test_server_that_exits_at_start_reports_log_tail(monkeypatch):
    monkeypatch.setattr(
        LocalS3Server,
        "_command",
        lambda self, tmp: [sys.executable, "-c", "print('boom: no disk'); raise SystemExit(3)"],
    )
    with pytest.raises(S3ServerError, match=r"exited at start(.|\n)*boom: no disk"):
        LocalS3Server().start()


def test_no_server_binary_is_na_where_a_broken_server_is_a_failure(monkeypatch, tmp_path):
    """The S3 benchmarks show n/a on a machine that cannot run the server at all (no weed
    binary anywhere find_weed looks), failed where the server is there but does not start."""
    from radibench.prepare import outcome
    from radibench.storage import server as server_module

    monkeypatch.setenv("RADIBENCH_WEED", str(tmp_path / "no-weed"))
    monkeypatch.setattr(server_module.sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setattr(server_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(server_module, "REPO_ROOT", tmp_path)
    problems: dict = {}
    assert not outcome.attempt(problems, "s3", LocalS3Server().start, "starting the S3 server")
    assert problems["s3"][0] == outcome.NA and "weed" in problems["s3"][1], problems
    monkeypatch.undo()

    monkeypatch.setattr(LocalS3Server, "_command", lambda self, tmp: [sys.executable, "-c", "1/0"])
    assert not outcome.attempt(problems, "s3", LocalS3Server().start, "starting the S3 server")
    assert problems["s3"][0] == outcome.FAILED, problems


def test_server_that_never_answers_times_out_and_is_killed(monkeypatch):
    pids = []

    def hanging(self, tmp):
        return [sys.executable, "-c", "import time; print('stuck', flush=True); time.sleep(120)"]

    monkeypatch.setattr(LocalS3Server, "_command", hanging)
    srv = LocalS3Server(startup_timeout=1.5)
    orig = srv._launch_and_wait

    def spy():
        try:
            orig()
        finally:
            pids.append(srv.proc.pid if srv.proc else None)

    srv._launch_and_wait = spy
    t0 = time.monotonic()
    with pytest.raises(S3ServerError, match=r"did not answer(.|\n)*stuck"):
        srv.start()
    assert time.monotonic() - t0 < 15
    assert pids[0] and not _pid_alive(pids[0])


def test_killed_server_gives_clear_errors_without_hanging():
    import tiledb

    srv = LocalS3Server().start()
    try:
        settings = srv.settings
        _tiledb_roundtrip(settings, "before-kill")
        srv.proc.kill()
        srv.proc.wait(10)
        with pytest.raises(S3ServerError, match="exited with code"):
            srv.check()
        t0 = time.monotonic()
        with pytest.raises(tiledb.TileDBError, match="(?i)connect"):
            tiledb.open(settings.uri("before-kill"), ctx=tiledb.Ctx(settings.tiledb_config()))
        assert time.monotonic() - t0 < 10
    finally:
        t0 = time.monotonic()
        srv.stop()
        assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("ending", ["exit", "sigkill"])
def test_no_orphan_when_owner_ends_without_stop(ending):
    """A normal exit runs the finalizer; SIGKILL of the owner leaves it to the kernel
    (parent-death signal via setpriv)."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from radibench.storage.netem import NetemProxy
        from radibench.storage.server import LocalS3Server
        srv = LocalS3Server().start()
        proxy = NetemProxy(srv.port, "lan").start()
        print(srv.proc.pid, proxy.proc.pid, srv._tmpdir, flush=True)
        if {ending!r} == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    out = res.stdout.split()
    pids, tmp = [int(out[0]), int(out[1])], out[2]
    deadline = time.monotonic() + 10
    while any(map(_pid_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_pid_alive, pids))
    if ending == "exit":
        assert res.returncode == 0 and not Path(tmp).exists()
    else:
        assert res.returncode == -9
        shutil.rmtree(tmp, ignore_errors=True)  # only a finalizer could have removed it


# -- settings ------------------------------------------------------------------------------------


def test_settings_for_tiledb_and_radiobject():
    st = S3Settings(
        bucket="b", prefix="p/q", endpoint="http://127.0.0.1:9", access_key="AK", secret_key="SK"
    )
    assert st.uri("x", "y/") == "s3://b/p/q/x/y"
    cfg = st.tiledb_config()
    assert cfg["vfs.s3.endpoint_override"] == "127.0.0.1:9"
    assert cfg["vfs.s3.scheme"] == "http"
    assert cfg["vfs.s3.use_virtual_addressing"] == "false"
    assert cfg["vfs.s3.connect_max_tries"] == "1"
    env = st.tiledb_env()
    assert env["TILEDB_VFS_S3_ENDPOINT_OVERRIDE"] == "127.0.0.1:9"
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    kw = st.radiobject_s3config_kwargs()
    assert kw["endpoint"] == "http://127.0.0.1:9" and kw["include_credentials"] is False
    from radiobject.ctx import S3Config

    S3Config(**kw)  # accepted by radiobject 0.1.1
    os.environ["AWS_PROFILE"] = "someone-else"
    try:
        with st.applied():
            assert os.environ["TILEDB_VFS_S3_REGION"] == "us-east-1"
            assert os.environ["AWS_ACCESS_KEY_ID"] == "AK" and "AWS_PROFILE" not in os.environ
        assert "TILEDB_VFS_S3_ENDPOINT_OVERRIDE" not in os.environ
        assert os.environ["AWS_PROFILE"] == "someone-else"
    finally:
        del os.environ["AWS_PROFILE"]


def test_real_s3_says_what_is_missing():
    msg = RealS3.missing({})
    assert "RADIBENCH_S3_URI=s3://" in msg and "AWS credentials" in msg
    assert "RADIBENCH_S3_URI is not set" in msg
    assert "no AWS credentials" in RealS3.missing({"RADIBENCH_S3_URI": "s3://bkt/pre"})
    assert "must look like" in RealS3.missing({"RADIBENCH_S3_URI": "bkt", "AWS_PROFILE": "x"})
    with pytest.raises(NotImplementedError, match="RADIBENCH_S3_URI"):
        s3.require_real_s3({})
    env = {"RADIBENCH_S3_URI": "s3://bkt/some/prefix/", "AWS_PROFILE": "dev", "AWS_REGION": "x-1"}
    assert RealS3.missing(env) is None
    st = s3.require_real_s3(env)
    assert (st.bucket, st.prefix, st.region, st.endpoint) == ("bkt", "some/prefix", "x-1", None)
    assert st.uri("a") == "s3://bkt/some/prefix/a"
    assert st.virtual_addressing and "vfs.s3.aws_access_key_id" not in st.tiledb_config()


# -- round trips ---------------------------------------------------------------------------------


def test_tiledb_roundtrip_through_proxy(server):
    with NetemProxy(server.port, profile="lan") as proxy:
        _tiledb_roundtrip(server.settings.via(proxy.endpoint), "dense")
        stats = proxy.stats()
    assert stats["requests"]["PUT"] > 0 and stats["requests"]["GET"] > 0
    assert stats["unparsed_connections"] == 0


RADIOBJECT_SCRIPT = """
import json, sys
import numpy as np
from radiobject import RadiObject
from radiobject.ctx import S3Config, configure

kwargs, uri, nifti, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
configure(s3=S3Config(**kwargs))
RadiObject.from_niftis(uri, images={"CT": [(nifti, "sub-01")]})
np.save(out, RadiObject(uri).collection("CT").iloc[0].to_numpy())
"""


def test_radiobject_roundtrip(server, tmp_path):
    import nibabel as nib

    data = (np.arange(16 * 12 * 8, dtype=np.int16).reshape(16, 12, 8) * 7) - 500
    nifti = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), nifti)
    with NetemProxy(server.port, profile="lan") as proxy:
        st = server.settings.via(proxy.endpoint)
        args = [json.dumps(st.radiobject_s3config_kwargs()), st.uri("radi"), str(nifti)]
        out = tmp_path / "out.npy"
        subprocess.run(
            [sys.executable, "-c", RADIOBJECT_SCRIPT, *args, str(out)],
            env={**os.environ, **st.tiledb_env()},
            check=True,
            timeout=120,
            capture_output=True,
        )
        stats = proxy.stats()
    np.testing.assert_array_equal(np.load(out), data)
    assert stats["requests"]["GET"] > 0 and stats["requests"]["PUT"] > 0


# -- failure modes and secrets -------------------------------------------------------------------


def test_unreachable_endpoint_fails_fast():
    import tiledb

    st = S3Settings(bucket="nobucket", endpoint=f"http://127.0.0.1:{_free_port()}")
    t0 = time.monotonic()
    with pytest.raises(tiledb.TileDBError, match="(?i)could not connect"):
        tiledb.open(st.uri("x"), ctx=tiledb.Ctx(st.tiledb_config()))
    assert time.monotonic() - t0 < 10

    # radiobject, configured only through the environment, fails as fast.
    script = (
        "from radiobject import RadiObject\n"
        "from radiobject.ctx import S3Config, configure\n"
        f"configure(s3=S3Config(**{st.radiobject_s3config_kwargs()!r}))\n"
        f"RadiObject({st.uri('radi')!r}).collection('CT')\n"
    )
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **st.tiledb_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode != 0 and "Could not connect" in res.stderr
    assert time.monotonic() - t0 < 15  # includes ~1-3 s of imports


def test_canary_credentials_never_leak(monkeypatch, tmp_path):
    """The caller's (real) keys reach neither the server, its log, errors, nor any repr."""
    import tiledb

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CANARY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET)
    monkeypatch.setenv("RADIBENCH_S3_URI", "s3://canary-bucket/x")
    texts = []
    srv = LocalS3Server().start()
    try:
        st = srv.settings
        with NetemProxy(srv.port, profile="lan") as proxy:
            _tiledb_roundtrip(st.via(proxy.endpoint), "canary")
            texts += [repr(proxy), json.dumps(proxy.stats())]
        with pytest.raises(tiledb.TileDBError) as err:
            tiledb.open(st.uri("does-not-exist"), ctx=tiledb.Ctx(st.tiledb_config()))
        texts += [str(err.value), repr(err.value)]
        with pytest.raises(S3ServerError) as err2:
            LocalS3Server(port=srv.port).start()
        texts += [str(err2.value)]
        texts += [Path(f"/proc/{srv.proc.pid}/environ").read_bytes().decode(errors="replace")]
        texts += [repr(srv), repr(st), str(st), json.dumps(st.tiledb_env())]
        texts += [srv.log_tail(1000)]
        real = RealS3.from_env()
        texts += [repr(real), str(real), json.dumps(real.tiledb_config())]
        texts += [str(RealS3.missing({"AWS_SECRET_ACCESS_KEY": CANARY_SECRET}))]
        log_files = list(Path(srv._tmpdir).rglob("*.log"))
        assert log_files
        texts += [p.read_text(errors="replace") for p in log_files]
        # The server's own dummy keys are masked in reprs too.
        assert st.secret_key not in repr(st) and st.access_key not in repr(st)
    finally:
        srv.stop()
    for text in texts:
        assert CANARY_ID not in text and CANARY_SECRET not in text
