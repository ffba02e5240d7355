"""radibench: the continuous benchmark suite for RadiObject (see README.md).

Rooms, with imports pointing one way (benchmarks -> prepare -> measure, frameworks -> data,
storage; tools read results and never import benchmarks):

    data/         datasets: profiles, synthetic CT, DICOM import, baseline files, the cache
    frameworks/   one reader/loader interface, one adapter per framework
    measure/      the protocol, the one fresh-process runner, counters, thread settings
    prepare/      what setup_cache does per commit, and the one n/a-or-failed rule
    storage/      local S3 server, network-emulation proxy, S3 settings
    asv_plugins/  what must happen inside asv (offline dashboard, atomic results)
    tools/        source history, report, status, results check, precision study
"""

from pathlib import Path

__version__ = "0.1.0"

#: The checkout holding asv.conf.json, benchmarks/ and .radibench/ (the caches).
REPO_ROOT = Path(__file__).resolve().parent.parent
