"""`asv check` imports the whole suite and validates every benchmark's signature, without
running anything: a wrong setup/params pairing fails here, not after a night of asv run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_asv_check_finds_no_problem():
    asv = Path(sys.executable).parent / "asv"
    proc = subprocess.run(
        [str(asv), "check", "--python=same"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "No problems found" in out, out
