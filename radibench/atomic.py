"""Files written whole or not at all: a reader (asv, publish, check-results, a merge of shards)
never sees half of one, whatever kills the writer. One home for the temp-file-and-rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable


def write_atomically(path, write: Callable[[str], None]) -> None:
    """`write(tmp)` fills a temporary file beside `path` (so the rename stays on one file
    system); it is flushed to disk and renamed over `path`; on any error it is removed."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".partial")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
