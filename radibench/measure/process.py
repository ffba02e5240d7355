"""The benchmark process itself: its thread budget, its lifetime, and what it keeps.

asv starts a fresh process for every benchmark, parameter and round, and re-runs `setup` before
every sample; these helpers make such a process behave the same way for every framework.
"""

from __future__ import annotations

import os
import sys

# One thread per library on a 2-core machine, so that timings do not fight the loader workers.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "1",
    # No EC2 metadata probe from boto3/the AWS SDK when no credentials are set.
    "AWS_EC2_METADATA_DISABLED": "true",
}

_KEPT: dict = {}


def child_env() -> dict[str, str]:
    """The environment of a child measuring process: this one's, the thread budget, and the
    checkout on PYTHONPATH (asv's benchmark environments do not install radibench)."""
    from radibench import REPO_ROOT

    env = {**os.environ, **THREAD_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def pin_threads() -> None:
    """Apply THREAD_ENV to this process before heavy imports. torch reads OMP_NUM_THREADS when it
    is first imported, so torch is not imported here: every asv process would pay for it."""
    for key, value in THREAD_ENV.items():
        os.environ.setdefault(key, value)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def end_with_parent() -> None:
    """Have the kernel SIGTERM this process when the process that started it dies (Linux).

    asv starts each benchmark in a process group of its own, so an `asv run` killed by a CI
    timeout, an OOM kill or SIGKILL would leave the running benchmark behind as an orphan, still
    loading the machine and holding its S3 server (whose own parent-death signal then fires).
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def quiet_foreign_notices() -> None:
    """Silence notices of other packages that say nothing about the measurement and would repeat
    in every benchmark's output block: MONAI's, on every CPU-only machine, that NVIDIA's GPU
    decoder (nvImageCodec) is absent and pydicom's own decoders are used."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", message="NvImgCodecPydicomReader", category=UserWarning)
    logging.getLogger("monai.data.nvimgcodec_pydicom_plugin").setLevel(logging.ERROR)


def kept(key, build):
    """`build()` once per process, then the same object: a warmed loader, an opened reader, a
    started server. asv re-runs `setup` before every sample; what it builds must survive."""
    if key not in _KEPT:
        _KEPT[key] = build()
    return _KEPT[key]
