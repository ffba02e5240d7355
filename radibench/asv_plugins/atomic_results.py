"""asv plugin that makes every JSON file asv writes appear whole or not at all.

asv 0.6.6 writes results/<machine>/<commit>-<env>.json (and benchmarks.json, machine.json, the
published html/ data) with a plain ``open(path, "w")`` + ``json.dump``. An `asv run` killed while
it writes (Ctrl-C, an OOM kill, a CI timeout) leaves a truncated file, and a truncated results
file also loses the earlier results of that commit it was rewriting. Enabled with
``"plugins": [".radibench.asv_plugins.atomic_results"]`` in asv.conf.json, this module wraps
``asv.util.write_json`` so that asv writes a temporary sibling file, flushes it to disk and
renames it over the old one (atomic on POSIX). Everything else is asv's own code.
"""

from __future__ import annotations

import functools

from asv import util

from radibench.atomic import write_atomically

# Importing this module twice (asv imports each plugin once; tests may again) wraps only once.
_original_write_json = getattr(util.write_json, "__wrapped__", util.write_json)


@functools.wraps(_original_write_json)
def write_json_atomically(path, data, api_version=None, compact=False):
    def write(tmp):
        _original_write_json(tmp, data, api_version=api_version, compact=compact)

    write_atomically(path, write)


util.write_json = write_json_atomically
