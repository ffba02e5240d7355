"""Where the measurements that say where a count went are kept, for the pull-request verdict
(radibench.tools.where): in RADIBENCH_PROFILES/<commit>/, the commit named by asv's ASV_COMMIT
in the benchmark process, so the gate finds the base's and the head's side by side.

- CALLGRIND, CALLS: where the instructions went (radibench.measure.instructions);
- REQUESTS: S3 requests and response bytes per batch by array (counts.S3PerBatch).

Nothing is kept when RADIBENCH_PROFILES is not set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PROFILES_ENV = "RADIBENCH_PROFILES"
CALLGRIND = "{framework}.callgrind"  # the counted batches' callgrind profile
CALLS = "{framework}.calls.json"  # Python calls per function (instructions.python_calls)
REQUESTS = "{framework}.requests.json"  # counters.s3_requests


def folder() -> Path | None:
    """This commit's folder, or None when RADIBENCH_PROFILES is not set. Raises before
    anything is measured when it is set outside asv (no commit to name the folder by)."""
    root = os.environ.get(PROFILES_ENV)
    if not root:
        return None
    commit = os.environ.get("ASV_COMMIT")
    if not commit:
        raise RuntimeError(
            f"{PROFILES_ENV} is set but ASV_COMMIT is not: profiles are kept by the commit asv "
            "measures; unset it outside asv"
        )
    return Path(root) / commit


def keep_json(name: str, data) -> None:
    """Write `data` as `name` in this commit's folder, if profiles are kept."""
    where = folder()
    if where is not None:
        where.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(json.dumps(data, indent=1, sort_keys=True))
