"""The lifecycle every helper server shares (the S3 server, the latency proxy): loopback ports,
its own process group, death with its owner, and one way to stop it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(n: int) -> list[int]:
    """n distinct free loopback ports (the kernel picks them; a race is caught at start)."""
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def die_with_parent(cmd: list[str]) -> list[str]:
    """Prefix ``cmd`` so the kernel SIGKILLs it when the process that started it dies.

    Covers what no finalizer can: the owner killed by SIGKILL (e.g. an asv timeout) or ending in
    ``os._exit``. util-linux ``setpriv`` is on every Debian-like system; without it, only the
    finalizer guards. The signal follows the starting *thread*: start servers from the main one.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *cmd] if setpriv else cmd


def launch(cmd: list[str], **popen) -> subprocess.Popen:
    """Start a helper server: its own process group (so `stop_group` reaches every child it
    forks), no standard input, killed by the kernel if its owner dies."""
    return subprocess.Popen(
        die_with_parent(cmd), stdin=subprocess.DEVNULL, start_new_session=True, **popen
    )


def stop_group(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    """SIGTERM the process group, wait, then SIGKILL whatever is left of it. Safe to call twice."""
    if proc is None or proc.poll() is not None:
        return  # reaped long ago: its group id may belong to someone else by now
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    # Whatever of the group is left (the leader or any child it forked) is killed outright.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)
